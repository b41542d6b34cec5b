//! Parser table tests and statement execution against an in-memory engine.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::{Engine, Error, Item, Namespace, ScanInput};

#[track_caller]
fn parses(src: &str) -> Statement {
    match parse(src) {
        Ok((s, _)) => s,
        Err(e) => panic!("{src}: {e}"),
    }
}

#[track_caller]
fn parse_error(src: &str, expect: &str) {
    match parse(src) {
        Ok(s) => panic!("{src}: parsed as {s:?}"),
        Err(e) => assert_eq!(e.to_string(), expect, "{src}"),
    }
}

#[track_caller]
fn malformed(src: &str) {
    parse_error(
        src,
        &format!("Statement wasn't well formed, can't be processed: {src}"),
    );
}

#[test]
fn parses_every_statement_of_the_developer_guide() {
    for src in [
        "SELECT * FROM \"Orders\" WHERE OrderID = 100",
        "SELECT * FROM \"Orders\" WHERE OrderID = 100 and Address='some address'",
        "SELECT * FROM \"Orders\" WHERE OrderID = 100 or pk = 200",
        "SELECT * FROM \"Orders\" WHERE OrderID IN [100, 300, 234]",
        "SELECT * FROM \"Orders\" WHERE OrderID > 1",
        "SELECT OrderID, Total FROM \"Orders\" WHERE OrderID IN [1, 2, 3] ORDER BY OrderID DESC",
        "SELECT OrderID, Total FROM \"Orders\" WHERE Total BETWEEN 500 AND 600",
        "SELECT Devices.FireStick.DateWatched[0] FROM WatchList WHERE CustomerID= 'C1' AND MovieID= 'M1'",
        "SELECT Devices FROM WatchList WHERE Devices.FireStick.DateWatched[0] >= '12/12/19'",
        "SELECT * FROM \"TableName\".\"IndexName\"",
        "INSERT INTO \"Music\" value {'Artist' : 'Acme Band','SongTitle' : 'PartiQL Rocks'}",
        "UPDATE \"Music\" SET AwardsWon=1 SET AwardDetail={'Grammys':[2020, 2018]} WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks' RETURNING ALL OLD *",
        "UPDATE \"Music\" SET AwardDetail.Grammys =list_append(AwardDetail.Grammys,[2016]) WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'",
        "UPDATE \"Music\" REMOVE AwardDetail.Grammys[2] WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'",
        "UPDATE \"Music\" SET BandMembers =<<'member1', 'member2'>> WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'",
        "UPDATE \"Music\" SET BandMembers =set_add(BandMembers, <<'newbandmember'>>) WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'",
        "DELETE FROM \"Music\" WHERE \"Artist\" = 'Acme Band' AND \"SongTitle\" = 'PartiQL Rocks' RETURNING ALL OLD *",
        "EXISTS(SELECT * FROM \"Music\" WHERE \"Artist\" = 'Acme Band' AND \"SongTitle\" = 'PartiQL Rocks' AND n > 1)",
    ] {
        parses(src);
    }
}

#[test]
fn select_tree_keeps_table_index_paths_and_order() {
    let s = parses("select a.b[2], \"c d\" from \"t\".\"i\" where x = ? order by k desc");
    let Statement::Select {
        list: SelectList::Paths(paths),
        table,
        index,
        filter: Some(Expr::Binary(BinOp::Eq, _, rhs)),
        order_by,
    } = s
    else {
        panic!("shape");
    };
    assert_eq!(table, "t");
    assert_eq!(index.as_deref(), Some("i"));
    assert_eq!(
        paths[0].elems,
        vec![
            crate::expr::PathElem::Attr("a".into()),
            crate::expr::PathElem::Attr("b".into()),
            crate::expr::PathElem::Index(2)
        ]
    );
    assert_eq!(
        paths[1].elems,
        vec![crate::expr::PathElem::Attr("c d".into())]
    );
    assert!(matches!(*rhs, Expr::Lit(Lit::Param(0), _)));
    assert!(order_by[0].1);
}

#[test]
fn counts_parameters_in_order() {
    let (_, n) = parse("INSERT INTO t VALUE {'a': ?, 'b': [?, <<?>>], 'c': {'d': ?}}").unwrap();
    assert_eq!(n, 4);
}

#[test]
fn escaped_quotes_and_literals() {
    let Statement::Insert {
        value: Expr::Lit(Lit::Tuple(fields), _),
        ..
    } = parses("INSERT INTO t VALUE {'it''s': 'a''b', 'n': -1.5e3, 't': TRUE, 'z': null}")
    else {
        panic!("shape");
    };
    assert_eq!(fields[0].0, "it's");
    assert_eq!(fields[0].2, Lit::Str("a'b".into()));
    assert_eq!(fields[1].2, Lit::Num("-1.5e3".into()));
    assert_eq!(fields[2].2, Lit::Bool(true));
    assert_eq!(fields[3].2, Lit::Null);
}

#[test]
fn syntax_errors_quote_the_statement() {
    for src in [
        "SELECT * FROM Music WHERE",
        "SELECT * FROM",
        "SELCT * FROM Music",
        "SELECT * FROM Music WHERE Artist = 'Acme Band' AND",
        "UPDATE Music REMOVE n, m WHERE Artist='A' AND SongTitle='S2'",
        "UPDATE Music WHERE Artist='A' AND SongTitle='S2'",
        "UPDATE Music SET n = 1 WHERE Artist='A' RETURNING ALL OLD",
        "UPDATE Music SET n = 1 WHERE Artist='A' RETURNING NONE *",
        "SELECT * FROM t WHERE a = 'unterminated",
        "SELECT * FROM t WHERE a = 1 garbage",
        "SELECT * FROM t WHERE a NOT = 1",
        "",
    ] {
        malformed(src);
    }
}

/// Deep nesting used to recurse once per level; it is refused before the stack runs out.
#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    for src in [
        format!(
            "SELECT * FROM t WHERE {}a = 1{}",
            "(".repeat(4000),
            ")".repeat(4000)
        ),
        format!("SELECT * FROM t WHERE {}a = 1", "NOT ".repeat(2000)),
        format!(
            "INSERT INTO t VALUE {{'a': {}1{}}}",
            "[".repeat(4000),
            "]".repeat(4000)
        ),
        format!(
            "SELECT * FROM t WHERE a = {}1{}",
            "size(".repeat(2000),
            ")".repeat(2000)
        ),
    ] {
        malformed(&src);
    }
    // Moderate nesting is fine.
    parses(&format!(
        "SELECT * FROM t WHERE {}a = 1{}",
        "(".repeat(20),
        ")".repeat(20)
    ));
}

#[test]
fn positioned_errors_name_line_column_and_length() {
    parse_error(
        "INSERT INTO Music VALUE {'Artist': 'x', 'a': 'q', 'a': 'r'}",
        "Duplicate keys in tuple. Key: a under root at 1:51:3",
    );
    parse_error(
        "INSERT INTO Music VALUE {'Artist': 'x', 's': <<>>}",
        "Empty bags are not supported at 1:46:2",
    );
    parse_error(
        "INSERT INTO Music VALUE {Artist: 'x2'}",
        "Tuple keys must be of type String. Actual type: VariableReference under root at 1:26:6",
    );
    parse_error(
        "SELECT COUNT(*) FROM Music",
        "Unexpected path component at 1:8:5",
    );
    parse_error(
        "INSERT INTO Music VALUE {'a': 'x'} RETURNING ALL OLD *",
        "RETURNING is not supported in INSERT",
    );
}

// Execution.

fn engine() -> (Engine, Namespace) {
    let engine = Engine::builder().seed(1).build().expect("engine");
    let ns = Namespace::default();
    engine
        .create_table(
            &ns,
            serde_json::from_value(json!({
                "TableName": "Music",
                "AttributeDefinitions": [
                    {"AttributeName": "Artist", "AttributeType": "S"},
                    {"AttributeName": "SongTitle", "AttributeType": "S"},
                    {"AttributeName": "Year", "AttributeType": "N"}
                ],
                "KeySchema": [
                    {"AttributeName": "Artist", "KeyType": "HASH"},
                    {"AttributeName": "SongTitle", "KeyType": "RANGE"}
                ],
                "GlobalSecondaryIndexes": [{
                    "IndexName": "ByYear",
                    "KeySchema": [{"AttributeName": "Year", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"}
                }],
                "BillingMode": "PAY_PER_REQUEST"
            }))
            .expect("input"),
        )
        .expect("create");
    (engine, ns)
}

fn run(e: &Engine, ns: &Namespace, stmt: &str) -> Result<Vec<Item>, Error> {
    run_with(e, ns, stmt, json!([]))
}

fn run_with(e: &Engine, ns: &Namespace, stmt: &str, params: Value) -> Result<Vec<Item>, Error> {
    let params: Vec<crate::AttributeValue> = serde_json::from_value(params).expect("params");
    e.execute_statement(
        ns,
        ExecuteStatementInput {
            statement: stmt.into(),
            parameters: (!params.is_empty()).then_some(params),
            ..Default::default()
        },
    )
    .map(|o| o.items)
}

fn items(v: Value) -> Vec<Item> {
    serde_json::from_value(v).expect("items")
}

fn seed(e: &Engine, ns: &Namespace) {
    for s in [
        "INSERT INTO Music VALUE {'Artist': 'A', 'SongTitle': 'S1', 'n': 1, 'tags': <<'x', 'y'>>, 'nested': {'l': [1, 'two', {'d': true}]}, 'nul': NULL}",
        "INSERT INTO Music VALUE {'Artist': 'A', 'SongTitle': 'S2', 'n': 2, 'Year': 2020}",
        "INSERT INTO \"Music\" VALUE {'Artist': 'B', 'SongTitle': 'S3', 'n': 3, 'Year': 2020}",
    ] {
        run(e, ns, s).expect(s);
    }
}

#[test]
fn insert_of_an_existing_key_is_a_duplicate_item() {
    let (e, ns) = engine();
    seed(&e, &ns);
    let err = run(
        &e,
        &ns,
        "INSERT INTO Music VALUE {'Artist': 'A', 'SongTitle': 'S1'}",
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::DuplicateItem("Duplicate primary key exists in table".into())
    );
    assert_eq!(err.aws_type(), "DuplicateItemException");
    // The item is unchanged.
    let got = run(
        &e,
        &ns,
        "SELECT n FROM Music WHERE Artist = 'A' AND SongTitle = 'S1'",
    )
    .unwrap();
    assert_eq!(got, items(json!([{"n": {"N": "1"}}])));
}

#[test]
fn insert_checks_the_key() {
    let (e, ns) = engine();
    assert_eq!(
        run(&e, &ns, "INSERT INTO Music VALUE {'Artist': 'A'}")
            .unwrap_err()
            .to_string(),
        "Key attribute should be present in the item: Key SongTitle"
    );
    assert_eq!(
        run(
            &e,
            &ns,
            "INSERT INTO Music VALUE {'Artist': 1, 'SongTitle': 'x'}"
        )
        .unwrap_err()
        .to_string(),
        "Key attribute's data type should match its data type in table's schema: Key Artist"
    );
    assert_eq!(
        run(&e, &ns, "INSERT INTO Nope VALUE {'a': 'b'}").unwrap_err(),
        Error::table_not_found()
    );
    assert_eq!(
        run(
            &e,
            &ns,
            "INSERT INTO Music VALUE {'Artist': 'x', 'SongTitle': 'x', 's': <<1, 'a'>>}"
        )
        .unwrap_err()
        .to_string(),
        "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags"
    );
    assert_eq!(
        run(
            &e,
            &ns,
            "INSERT INTO Music VALUE {'Artist': 'x', 'SongTitle': 'x', 's': <<1, 1.0>>}"
        )
        .unwrap_err()
        .to_string(),
        "Input collection contains duplicates"
    );
    assert!(
        run(
            &e,
            &ns,
            "INSERT INTO Music VALUE {'Artist': 'x', 'SongTitle': 'x', 'f': -0.00}"
        )
        .unwrap_err()
        .to_string()
        .starts_with("Negative zero decimal is not supported")
    );
}

#[test]
fn selects_by_key_index_and_scan() {
    let (e, ns) = engine();
    seed(&e, &ns);
    let got = run(&e, &ns, "SELECT SongTitle FROM Music WHERE Artist = 'A'").unwrap();
    assert_eq!(
        got,
        items(json!([{"SongTitle": {"S": "S1"}}, {"SongTitle": {"S": "S2"}}]))
    );
    let got = run(
        &e,
        &ns,
        "SELECT SongTitle FROM Music WHERE Artist IN ['A', 'B'] ORDER BY Artist DESC",
    )
    .unwrap();
    assert_eq!(
        got,
        items(
            json!([{"SongTitle": {"S": "S3"}}, {"SongTitle": {"S": "S1"}}, {"SongTitle": {"S": "S2"}}])
        )
    );
    let got = run(
        &e,
        &ns,
        "SELECT SongTitle FROM Music WHERE Artist = 'A' OR Artist = 'B' ORDER BY SongTitle DESC",
    )
    .unwrap();
    assert_eq!(
        got,
        items(
            json!([{"SongTitle": {"S": "S2"}}, {"SongTitle": {"S": "S1"}}, {"SongTitle": {"S": "S3"}}])
        )
    );
    let got = run(
        &e,
        &ns,
        "SELECT Artist FROM \"Music\".\"ByYear\" WHERE \"Year\" = 2020",
    )
    .unwrap();
    assert_eq!(got.len(), 2);
    let got = run(
        &e,
        &ns,
        "SELECT SongTitle FROM Music WHERE Artist = 'A' AND SongTitle > 'S1'",
    )
    .unwrap();
    assert_eq!(got, items(json!([{"SongTitle": {"S": "S2"}}])));
    let got = run(
        &e,
        &ns,
        "SELECT nested.l[1] FROM Music WHERE tags IS NOT MISSING",
    )
    .unwrap();
    assert_eq!(got, items(json!([{"l[1]": {"S": "two"}}])));
    let got = run(
        &e,
        &ns,
        "SELECT nested.l[2].d, \"n\" FROM Music WHERE Artist = 'A' AND SongTitle = 'S1'",
    )
    .unwrap();
    assert_eq!(got, items(json!([{"d": {"BOOL": true}, "n": {"N": "1"}}])));
    let got = run(&e, &ns, "SELECT SongTitle FROM Music WHERE nul IS NULL").unwrap();
    assert_eq!(got, items(json!([{"SongTitle": {"S": "S1"}}])));
    let got = run(
        &e,
        &ns,
        "SELECT SongTitle FROM Music WHERE begins_with(SongTitle, 'S') AND contains(tags, 'x') AND attribute_type(n, 'N') AND size(tags) = 2 AND nested.l[0] BETWEEN 0 AND 5",
    )
    .unwrap();
    assert_eq!(got, items(json!([{"SongTitle": {"S": "S1"}}])));
    let got = run_with(
        &e,
        &ns,
        "SELECT n FROM Music WHERE Artist = ? AND n <> ?",
        json!([{"S": "A"}, {"N": "1"}]),
    )
    .unwrap();
    assert_eq!(got, items(json!([{"n": {"N": "2"}}])));
    let got = run(&e, &ns, "SELECT missing_attr FROM Music WHERE Artist = 'B'").unwrap();
    assert_eq!(got, items(json!([{}])));
}

#[test]
fn select_errors_match_aws() {
    let (e, ns) = engine();
    seed(&e, &ns);
    let msg = |s: &str| run(&e, &ns, s).unwrap_err().to_string();
    assert_eq!(
        msg("SELECT * FROM Music ORDER BY SongTitle"),
        "Must have WHERE clause in the statement when using ORDER BY clause."
    );
    assert_eq!(
        msg("SELECT * FROM Music WHERE Artist = 'A' ORDER BY n"),
        "Variable reference n in ORDER BY clause must be part of the primary key"
    );
    assert_eq!(
        msg("SELECT * FROM Music WHERE n = 1 ORDER BY SongTitle"),
        "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause."
    );
    assert_eq!(
        msg("SELECT * FROM Music WHERE foo(n) = 1"),
        "Unrecognized function: foo"
    );
    assert_eq!(
        msg("SELECT * FROM Music WHERE n = 1 + 1"),
        "Unsupported operator in Condition Expression. Operator: +"
    );
    assert_eq!(
        msg("SELECT * FROM Music WHERE Artist = 1"),
        "Key attribute's data type should match its data type in table's schema: Key Artist"
    );
    assert_eq!(
        msg("SELECT * FROM \"Music\".\"Nope\""),
        "The table does not have the specified index: Nope"
    );
    assert_eq!(
        msg("SELECT * FROM Music WHERE Artist = ?"),
        "Number of parameters in request and statement don't match."
    );
    assert_eq!(
        msg("EXISTS(SELECT * FROM Music WHERE Artist='A' AND SongTitle='S1' AND n = 1)"),
        "EXISTS can only be used in ExecuteTransaction write requests."
    );
    assert_eq!(
        run(&e, &ns, "select * from music").unwrap_err(),
        Error::table_not_found()
    );
}

#[test]
fn update_and_delete_need_the_whole_key_and_return_what_is_asked() {
    let (e, ns) = engine();
    seed(&e, &ns);
    let got = run(&e, &ns, "UPDATE Music SET n = n + 5 SET m = 'q' WHERE Artist='A' AND SongTitle='S2' RETURNING MODIFIED NEW *").unwrap();
    assert_eq!(got, items(json!([{"n": {"N": "7"}, "m": {"S": "q"}}])));
    let got = run(&e, &ns, "UPDATE Music SET tags = set_add(tags, <<'z'>>) REMOVE m WHERE Artist='A' AND SongTitle='S2' RETURNING ALL NEW *").unwrap();
    assert_eq!(
        got,
        items(
            json!([{"Artist": {"S": "A"}, "SongTitle": {"S": "S2"}, "n": {"N": "7"}, "Year": {"N": "2020"}, "tags": {"SS": ["z"]}}])
        )
    );
    let got = run(&e, &ns, "UPDATE Music SET tags = set_delete(tags, <<'x'>>), l = list_append(nested.l, [3]) WHERE Artist='A' AND SongTitle='S1' RETURNING MODIFIED OLD *").unwrap();
    assert_eq!(got, items(json!([{"tags": {"SS": ["x", "y"]}}])));
    let msg = |s: &str| run(&e, &ns, s).unwrap_err().to_string();
    assert_eq!(
        msg("UPDATE Music SET x = 1 WHERE Artist='A'"),
        "Where clause does not contain a mandatory equality on all key attributes"
    );
    assert_eq!(
        msg("UPDATE Music SET x = 1 WHERE Artist='A' OR SongTitle='S1'"),
        "Where clause does not contain a mandatory equality on all key attributes"
    );
    assert_eq!(
        msg("UPDATE Music SET q = set_add(tags, <<'x'>>) WHERE Artist='A' AND SongTitle='S1'"),
        "The first argument to SET_ADD must equal the assignment value"
    );
    assert_eq!(
        msg("UPDATE Music SET Artist = 'z' WHERE Artist='A' AND SongTitle='S1'"),
        "One or more parameter values were invalid: Cannot update attribute Artist. This attribute is part of the key"
    );
    assert!(matches!(
        run(
            &e,
            &ns,
            "UPDATE Music SET x = 1 WHERE Artist='Nobody' AND SongTitle='x'"
        ),
        Err(Error::ConditionalCheckFailed { .. })
    ));
    assert!(matches!(
        run(
            &e,
            &ns,
            "UPDATE Music SET x = 1 WHERE Artist='A' AND SongTitle='S1' AND n = 99"
        ),
        Err(Error::ConditionalCheckFailed { .. })
    ));
    assert_eq!(
        msg("DELETE FROM Music WHERE Artist='A' AND SongTitle='S1' RETURNING ALL NEW *"),
        "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in DELETE statements."
    );
    // A missing item deletes quietly, whatever else the WHERE says.
    assert_eq!(
        run(
            &e,
            &ns,
            "DELETE FROM Music WHERE Artist='Nope' AND SongTitle='S1' AND n = 1 RETURNING ALL OLD *"
        )
        .unwrap(),
        vec![]
    );
    assert!(matches!(
        run(
            &e,
            &ns,
            "DELETE FROM Music WHERE Artist='B' AND SongTitle='S3' AND n = 1"
        ),
        Err(Error::ConditionalCheckFailed { .. })
    ));
    let got = run(
        &e,
        &ns,
        "DELETE FROM Music WHERE Artist='B' AND SongTitle='S3' AND n = 3 RETURNING ALL OLD *",
    )
    .unwrap();
    assert_eq!(
        got,
        items(
            json!([{"Artist": {"S": "B"}, "SongTitle": {"S": "S3"}, "n": {"N": "3"}, "Year": {"N": "2020"}}])
        )
    );
    assert_eq!(
        run(&e, &ns, "SELECT * FROM Music WHERE Artist = 'B'").unwrap(),
        vec![]
    );
}

#[test]
fn select_pages_with_limit_and_next_token() {
    let (e, ns) = engine();
    for i in 0..7 {
        run(
            &e,
            &ns,
            &format!(
                "INSERT INTO Music VALUE {{'Artist': 'P{}', 'SongTitle': 'S{i}'}}",
                i % 3
            ),
        )
        .unwrap();
    }
    for stmt in [
        "SELECT * FROM Music",
        "SELECT * FROM Music WHERE Artist IN ['P0', 'P1', 'P2']",
    ] {
        let mut token = None;
        let mut all = Vec::new();
        let mut pages = 0;
        loop {
            let out = e
                .execute_statement(
                    &ns,
                    ExecuteStatementInput {
                        statement: stmt.into(),
                        limit: Some(2),
                        next_token: token.clone(),
                        ..Default::default()
                    },
                )
                .unwrap();
            assert!(out.items.len() <= 2);
            all.extend(out.items);
            pages += 1;
            token = out.next_token;
            if token.is_none() {
                break;
            }
        }
        assert_eq!(all.len(), 7, "{stmt}");
        assert!(pages >= 4, "{stmt}");
    }
    let err = e
        .execute_statement(
            &ns,
            ExecuteStatementInput {
                statement: "SELECT * FROM Music".into(),
                next_token: Some("garbage".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "Invalid NextToken");
}

fn tx(
    e: &Engine,
    ns: &Namespace,
    stmts: &[&str],
    token: Option<&str>,
) -> Result<ExecuteTransactionOutput, Error> {
    e.execute_transaction(
        ns,
        ExecuteTransactionInput {
            transact_statements: stmts
                .iter()
                .map(|s| ParameterizedStatement {
                    statement: s.to_string(),
                    ..Default::default()
                })
                .collect(),
            client_request_token: token.map(str::to_string),
            return_consumed_capacity: None,
        },
    )
}

#[test]
fn transactions_are_all_or_nothing_with_reasons() {
    let (e, ns) = engine();
    seed(&e, &ns);
    let err = tx(
        &e,
        &ns,
        &[
            "INSERT INTO Music VALUE {'Artist': 'C', 'SongTitle': 'S9'}",
            "INSERT INTO Music VALUE {'Artist': 'A', 'SongTitle': 'S1'}",
            "EXISTS(SELECT * FROM Music WHERE Artist = 'A' AND SongTitle = 'S2' AND n = 99)",
        ],
        None,
    )
    .unwrap_err();
    let Error::TransactionCanceled { message, reasons } = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        message,
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ValidationError, ConditionalCheckFailed]"
    );
    assert_eq!(
        reasons[1].message.as_deref(),
        Some("Duplicate primary key exists in table")
    );
    assert_eq!(
        run(&e, &ns, "SELECT * FROM Music WHERE Artist = 'C'").unwrap(),
        vec![]
    );

    tx(
        &e,
        &ns,
        &[
            "INSERT INTO Music VALUE {'Artist': 'C', 'SongTitle': 'S9'}",
            "UPDATE Music SET n = 10 WHERE Artist = 'A' AND SongTitle = 'S1'",
        ],
        Some("tok"),
    )
    .unwrap();
    // Replaying the token answers again without writing.
    run(
        &e,
        &ns,
        "DELETE FROM Music WHERE Artist = 'C' AND SongTitle = 'S9'",
    )
    .unwrap();
    tx(
        &e,
        &ns,
        &[
            "INSERT INTO Music VALUE {'Artist': 'C', 'SongTitle': 'S9'}",
            "UPDATE Music SET n = 10 WHERE Artist = 'A' AND SongTitle = 'S1'",
        ],
        Some("tok"),
    )
    .unwrap();
    assert_eq!(
        run(&e, &ns, "SELECT * FROM Music WHERE Artist = 'C'").unwrap(),
        vec![]
    );
    assert!(matches!(
        tx(
            &e,
            &ns,
            &["INSERT INTO Music VALUE {'Artist': 'D', 'SongTitle': 'S9'}"],
            Some("tok")
        ),
        Err(Error::IdempotentParameterMismatch(_))
    ));

    let out = tx(
        &e,
        &ns,
        &[
            "SELECT n FROM Music WHERE Artist = 'A' AND SongTitle = 'S1'",
            "SELECT * FROM Music WHERE Artist = 'Z' AND SongTitle = 'S1'",
        ],
        None,
    )
    .unwrap();
    assert_eq!(
        out.responses,
        vec![
            TransactionItem {
                item: Some(items(json!([{"n": {"N": "10"}}])).remove(0))
            },
            TransactionItem { item: None }
        ]
    );

    let msg = |s: &[&str]| tx(&e, &ns, s, None).unwrap_err().to_string();
    assert_eq!(
        msg(&[
            "SELECT * FROM Music WHERE Artist = 'A' AND SongTitle = 'S1'",
            "INSERT INTO Music VALUE {'Artist': 'E', 'SongTitle': 'S9'}"
        ]),
        "ExecuteTransaction API does not support both read and write operations in the same request."
    );
    assert_eq!(
        msg(&["SELECT * FROM Music"]),
        "Validation failed in TransactStatements[0]: Select statements within ExecuteTransaction must specify the primary key in the where clause."
    );
    assert_eq!(
        msg(&[
            "UPDATE Music SET n = 1 WHERE Artist = 'A' AND SongTitle = 'S1' RETURNING ALL NEW *"
        ]),
        "Validation failed in TransactStatements[0]: RETURNING clause is not supported in ExecuteTransaction."
    );
    assert_eq!(
        msg(&[
            "INSERT INTO Music VALUE {'Artist': 'F', 'SongTitle': 'x'}",
            "EXISTS(SELECT * FROM Music WHERE Artist='A' AND SongTitle='S1')"
        ]),
        "Validation failed in TransactStatements[1]: EXISTS() must contain a single item read with additional condition"
    );
    assert_eq!(
        msg(&[
            "UPDATE Music SET n = 3 WHERE Artist = 'A' AND SongTitle = 'S1'",
            "DELETE FROM Music WHERE Artist = 'A' AND SongTitle = 'S1'"
        ]),
        "Transaction request cannot include multiple operations on one item"
    );
}

fn batch(e: &Engine, ns: &Namespace, stmts: &[&str]) -> Result<Vec<BatchStatementResponse>, Error> {
    e.batch_execute_statement(
        ns,
        BatchExecuteStatementInput {
            statements: stmts
                .iter()
                .map(|s| BatchStatementRequest {
                    statement: s.to_string(),
                    ..Default::default()
                })
                .collect(),
            return_consumed_capacity: None,
        },
    )
    .map(|o| o.responses)
}

#[test]
fn batches_report_each_statement() {
    let (e, ns) = engine();
    seed(&e, &ns);
    let r = batch(
        &e,
        &ns,
        &[
            "INSERT INTO Music VALUE {'Artist': 'A', 'SongTitle': 'S1'}",
            "INSERT INTO Music VALUE {'Artist': 'G', 'SongTitle': 'S1'}",
            "bad",
            "UPDATE Music SET v = 9 WHERE Artist='Z' AND SongTitle='S1'",
            "DELETE FROM Nope WHERE id = 'x'",
        ],
    )
    .unwrap();
    let codes: Vec<Option<&str>> = r
        .iter()
        .map(|r| r.error.as_ref().map(|e| e.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![
            Some("DuplicateItem"),
            None,
            Some("ValidationError"),
            Some("ConditionalCheckFailed"),
            Some("ResourceNotFound")
        ]
    );
    assert_eq!(r[1].table_name.as_deref(), Some("Music"));
    let r = batch(
        &e,
        &ns,
        &[
            "SELECT n FROM Music WHERE Artist = 'A' AND SongTitle = 'S1'",
            "SELECT n FROM Music WHERE Artist = 'Q' AND SongTitle = 'S1'",
            "SELECT n FROM Music WHERE Artist = 'A'",
        ],
    )
    .unwrap();
    assert_eq!(r[0].item, Some(items(json!([{"n": {"N": "1"}}])).remove(0)));
    assert_eq!(
        (r[1].table_name.as_deref(), r[1].item.as_ref()),
        (Some("Music"), None)
    );
    assert_eq!(
        r[2].error.as_ref().map(|e| e.message.as_str()),
        Some(
            "Select statements within BatchExecuteStatement must specify the primary key in the where clause."
        )
    );
    assert_eq!(
        batch(
            &e,
            &ns,
            &[
                "SELECT * FROM Music WHERE Artist = 'A' AND SongTitle = 'S1'",
                "INSERT INTO Music VALUE {'Artist': 'H', 'SongTitle': 'S1'}"
            ]
        )
        .unwrap_err()
        .to_string(),
        "Read and write requests together in the same batch is not supported."
    );
    assert_eq!(
        batch(
            &e,
            &ns,
            &[
                "UPDATE Music SET v = 1 WHERE Artist = 'A' AND SongTitle = 'S1'",
                "DELETE FROM Music WHERE Artist = 'A' AND SongTitle = 'S1'"
            ]
        )
        .unwrap_err()
        .to_string(),
        "Provided list of item keys contains duplicates"
    );
}

fn scan_filter(e: &Engine, ns: &Namespace, filter: &str, values: Value) -> Vec<Item> {
    let mut input: ScanInput = serde_json::from_value(json!({
        "TableName": "Music",
        "FilterExpression": filter,
        "ExpressionAttributeValues": values,
    }))
    .expect("scan input");
    if input
        .params
        .expression_attribute_values
        .as_ref()
        .is_some_and(|v| v.is_empty())
    {
        input.params.expression_attribute_values = None;
    }
    e.scan(ns, input).expect("scan").items.unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// A SELECT with a WHERE returns exactly what a Scan with the same FilterExpression
    /// returns, in the same order.
    #[test]
    fn select_where_equals_scan_with_filter(
        rows in proptest::collection::vec((0u8..3, 0u8..4, proptest::option::of(0i32..6)), 1..12),
        op in prop::sample::select(vec!["=", "<>", "<", "<=", ">", ">="]),
        k in 0i32..6,
        pin in any::<bool>(),
    ) {
        let (e, ns) = engine();
        for (a, s, n) in &rows {
            let n = n.map(|n| format!(", 'n': {n}")).unwrap_or_default();
            let _ = run(&e, &ns, &format!("INSERT INTO Music VALUE {{'Artist': 'A{a}', 'SongTitle': 'S{s}'{n}}}"));
        }
        let (where_, filter, values) = if pin {
            (format!("Artist = 'A1' AND n {op} {k}"), format!("Artist = :a AND n {op} :k"), json!({":a": {"S": "A1"}, ":k": {"N": k.to_string()}}))
        } else {
            (format!("n {op} {k} OR begins_with(SongTitle, 'S1')"), format!("n {op} :k OR begins_with(SongTitle, :p)"), json!({":k": {"N": k.to_string()}, ":p": {"S": "S1"}}))
        };
        let got = run(&e, &ns, &format!("SELECT * FROM Music WHERE {where_}")).unwrap();
        let want = scan_filter(&e, &ns, &filter, values);
        prop_assert_eq!(got, want);
    }
}
