//! `#[ddb_test]`: runs an `async fn` test against a fresh, isolated DynamoDB fixture.
//!
//! The macro only parses options and checks the signature; everything else is ordinary code
//! in `ddb_harness::__private::run_test`.
//!
//! ```ignore
//! #[ddb_harness::ddb_test(tables = "fixtures/tables.json", items = "fixtures/items.json",
//!                         clock = "2024-01-01T00:00:00Z", seed = 7,
//!                         faults = "fixtures/faults.json")]
//! async fn finds_the_user(client: aws_sdk_dynamodb::Client) { /* … */ }
//! ```
//! File paths are relative to the crate root (`CARGO_MANIFEST_DIR`) and embedded with
//! `include_str!`, so editing a fixture file rebuilds the test.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::Parser;

const OPTIONS: &str = "`tables`, `items`, `clock`, `seed`, `faults`";

/// Wraps `async fn name(arg: Fixture | Client)` in a `#[test]` with its own fixture.
#[proc_macro_attribute]
pub fn ddb_test(args: TokenStream, item: TokenStream) -> TokenStream {
    let input = match syn::parse::<syn::ItemFn>(item.clone()) {
        Ok(f) => f,
        Err(e) => return e.to_compile_error().into(),
    };
    match expand(args.into(), input) {
        Ok(ts) => ts.into(),
        Err(e) => {
            // Keep the original function so the IDE still understands it.
            let original: proc_macro2::TokenStream = item.into();
            let err = e.to_compile_error();
            quote!(#err #original).into()
        }
    }
}

fn expand(
    args: proc_macro2::TokenStream,
    input: syn::ItemFn,
) -> syn::Result<proc_macro2::TokenStream> {
    let mut tables = None;
    let mut items = None;
    let mut clock = None;
    let mut seed = None;
    let mut faults = None;
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match key.as_str() {
            "tables" => tables = Some(meta.value()?.parse::<syn::LitStr>()?),
            "items" => items = Some(meta.value()?.parse::<syn::LitStr>()?),
            "clock" => clock = Some(meta.value()?.parse::<syn::LitStr>()?),
            "seed" => seed = Some(meta.value()?.parse::<syn::LitInt>()?),
            "faults" => faults = Some(meta.value()?.parse::<syn::LitStr>()?),
            _ => {
                return Err(
                    meta.error(format!("unknown option `{key}`; expected one of {OPTIONS}"))
                );
            }
        }
        Ok(())
    });
    parser.parse2(args)?;

    if input.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            input.sig.fn_token,
            "`#[ddb_test]` functions must be `async fn`",
        ));
    }
    if input.sig.inputs.len() > 1 {
        return Err(syn::Error::new_spanned(
            &input.sig.inputs,
            "`#[ddb_test]` functions take one argument: a `ddb_harness::Fixture` or an `aws_sdk_dynamodb::Client`",
        ));
    }
    if let Some(c) = &clock {
        let v = c.value();
        if !(v.ends_with('Z') && v.contains('T')) {
            return Err(syn::Error::new_spanned(
                c,
                "`clock` must be an RFC 3339 UTC time such as \"2024-01-01T00:00:00Z\"",
            ));
        }
    }
    let contents = |l: &syn::LitStr| {
        quote!(::core::include_str!(::core::concat!(
            ::core::env!("CARGO_MANIFEST_DIR"),
            "/",
            #l
        )))
    };
    // Definition files keep their path, whose extension picks JSON or YAML.
    let definition = |lit: &Option<syn::LitStr>| match lit {
        Some(l) => {
            let text = contents(l);
            quote!(::core::option::Option::Some((#l, #text)))
        }
        None => quote!(::core::option::Option::None),
    };
    let tables = definition(&tables);
    let items = definition(&items);
    let faults = match &faults {
        Some(l) => {
            let text = contents(l);
            quote!(::core::option::Option::Some(#text))
        }
        None => quote!(::core::option::Option::None),
    };
    let clock = match &clock {
        Some(c) => quote!(::core::option::Option::Some(#c)),
        None => quote!(::core::option::Option::None),
    };
    let seed = match &seed {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    };

    let attrs = &input.attrs;
    let vis = &input.vis;
    let name = &input.sig.ident;
    let mut inner = input.clone();
    inner.attrs.clear();
    inner.vis = syn::Visibility::Inherited;
    let inner_name = syn::Ident::new("__ddb_test_body", name.span());
    inner.sig.ident = inner_name.clone();
    // `#[test]` functions vanish outside `cfg(test)`, and with them the `TestArg` bound of
    // `run_test`; this check keeps a wrong argument type an error in every build (`cargo check`,
    // trybuild) without reporting it twice under `cfg(test)`.
    let arg_check = match input.sig.inputs.first() {
        Some(syn::FnArg::Typed(arg)) => {
            let ty = &arg.ty;
            quote::quote_spanned! {syn::spanned::Spanned::span(ty)=>
                #[cfg(not(test))]
                const _: fn() = ::ddb_harness::__private::check_arg::<#ty>;
            }
        }
        Some(syn::FnArg::Receiver(r)) => {
            return Err(syn::Error::new_spanned(
                r,
                "`#[ddb_test]` functions take a `ddb_harness::Fixture` or an `aws_sdk_dynamodb::Client`, not `self`",
            ));
        }
        None => quote!(),
    };
    let call = if input.sig.inputs.is_empty() {
        quote!(|_: ::ddb_harness::Fixture| #inner_name())
    } else {
        quote!(#inner_name)
    };
    Ok(quote! {
        #arg_check
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis fn #name() {
            #inner
            ::ddb_harness::__private::run_test(
                ::ddb_harness::__private::TestOptions {
                    tables: #tables, items: #items, clock: #clock, seed: #seed, faults: #faults,
                    name: ::core::option::Option::Some(::core::concat!(::core::module_path!(), "::", ::core::stringify!(#name))),
                },
                #call,
            )
        }
    })
}
