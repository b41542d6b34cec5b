//! PartiQL end to end through aws-sdk-dynamodb over real HTTP: ExecuteStatement with
//! parameters and paging, BatchExecuteStatement's per-statement errors, ExecuteTransaction's
//! cancellation reasons and idempotency, and the SDK's typed `DuplicateItemException`.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::execute_statement::ExecuteStatementError;
use aws_sdk_dynamodb::operation::execute_transaction::ExecuteTransactionError;
use aws_sdk_dynamodb::types::{
    AttributeValue, BatchStatementErrorCodeEnum, BatchStatementRequest, ParameterizedStatement,
    ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure,
};
use ddb_tests::{create_id_table, s, start};

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn stmt(text: &str) -> ParameterizedStatement {
    ParameterizedStatement::builder()
        .statement(text)
        .build()
        .unwrap()
}

#[tokio::test]
async fn insert_select_update_delete_with_parameters() {
    let t = start().await;
    create_id_table(&t.client, "users").await;
    t.client
        .execute_statement()
        .statement("INSERT INTO users VALUE {'id': ?, 'n': ?, 'tags': <<'a', 'b'>>}")
        .parameters(s("u1"))
        .parameters(n("1"))
        .send()
        .await
        .unwrap();
    let err = t
        .client
        .execute_statement()
        .statement("INSERT INTO users VALUE {'id': 'u1'}")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, ExecuteStatementError::DuplicateItemException(_)),
        "{err:?}"
    );
    assert_eq!(err.message(), Some("Duplicate primary key exists in table"));

    let out = t
        .client
        .execute_statement()
        .statement("SELECT n, tags FROM users WHERE id = ?")
        .parameters(s("u1"))
        .consistent_read(true)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!(out.items().len(), 1);
    assert_eq!(out.items()[0]["n"], n("1"));
    assert_eq!(out.consumed_capacity().unwrap().capacity_units(), Some(1.0));

    let out = t
        .client
        .execute_statement()
        .statement("UPDATE users SET n = n + 1 SET m = {'k': [1, true, null]} WHERE id = 'u1' RETURNING ALL NEW *")
        .send()
        .await
        .unwrap();
    assert_eq!(out.items()[0]["n"], n("2"));
    assert_eq!(
        out.items()[0]["m"],
        AttributeValue::M(
            [(
                "k".to_string(),
                AttributeValue::L(vec![
                    n("1"),
                    AttributeValue::Bool(true),
                    AttributeValue::Null(true)
                ])
            )]
            .into()
        )
    );

    let err = t
        .client
        .execute_statement()
        .statement("UPDATE users SET n = 0 WHERE id = 'u1' AND n = 99")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let ExecuteStatementError::ConditionalCheckFailedException(e) = err else {
        panic!("{err:?}");
    };
    assert_eq!(e.item().unwrap()["n"], n("2"));

    let err = t
        .client
        .execute_statement()
        .statement("DELETE FROM users WHERE n = 2")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Where clause does not contain a mandatory equality on all key attributes")
    );
    let out = t
        .client
        .execute_statement()
        .statement("DELETE FROM users WHERE id = 'u1' RETURNING ALL OLD *")
        .send()
        .await
        .unwrap();
    assert_eq!(out.items()[0]["id"], s("u1"));

    let err = t
        .client
        .execute_statement()
        .statement("SELECT * FROM users WHERE")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        err.message(),
        Some("Statement wasn't well formed, can't be processed: SELECT * FROM users WHERE")
    );
}

#[tokio::test]
async fn select_pages_through_next_token() {
    let t = start().await;
    create_id_table(&t.client, "items").await;
    for i in 0..25 {
        t.client
            .execute_statement()
            .statement(format!(
                "INSERT INTO items VALUE {{'id': 'i{i:02}', 'even': {}}}",
                i % 2 == 0
            ))
            .send()
            .await
            .unwrap();
    }
    let mut token = None;
    let mut seen = Vec::new();
    loop {
        let out = t
            .client
            .execute_statement()
            .statement("SELECT id FROM items WHERE even = true")
            .limit(4)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        for item in out.items() {
            let AttributeValue::S(id) = &item["id"] else {
                panic!()
            };
            seen.push(id.clone());
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    seen.sort();
    let want: Vec<String> = (0..25)
        .filter(|i| i % 2 == 0)
        .map(|i| format!("i{i:02}"))
        .collect();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn batch_statements_fail_one_by_one() {
    let t = start().await;
    create_id_table(&t.client, "users").await;
    let req = |text: &str| {
        BatchStatementRequest::builder()
            .statement(text)
            .build()
            .unwrap()
    };
    let out = t
        .client
        .batch_execute_statement()
        .statements(req("INSERT INTO users VALUE {'id': 'a', 'v': 1}"))
        .statements(req("INSERT INTO users VALUE {'id': 'b'}"))
        .statements(req("INSERT INTO nope VALUE {'id': 'c'}"))
        .statements(req("UPDATE users SET v = 2 WHERE id = 'zz'"))
        .send()
        .await
        .unwrap();
    let codes: Vec<Option<&BatchStatementErrorCodeEnum>> = out
        .responses()
        .iter()
        .map(|r| r.error().and_then(|e| e.code()))
        .collect();
    assert_eq!(
        codes,
        vec![
            None,
            None,
            Some(&BatchStatementErrorCodeEnum::ResourceNotFound),
            Some(&BatchStatementErrorCodeEnum::ConditionalCheckFailed)
        ]
    );
    let out = t
        .client
        .batch_execute_statement()
        .statements(req("SELECT v FROM users WHERE id = 'a'"))
        .statements(req("SELECT v FROM users WHERE id = 'zz'"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.responses()[0].item().unwrap()["v"], n("1"));
    assert_eq!(out.responses()[0].table_name(), Some("users"));
    assert!(out.responses()[1].item().is_none());
    let err = t
        .client
        .batch_execute_statement()
        .statements(req("SELECT v FROM users WHERE id = 'a'"))
        .statements(req("INSERT INTO users VALUE {'id': 'q'}"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        err.message(),
        Some("Read and write requests together in the same batch is not supported.")
    );
}

#[tokio::test]
async fn transactions_cancel_with_reasons_and_replay_tokens() {
    let t = start().await;
    create_id_table(&t.client, "users").await;
    t.client
        .execute_transaction()
        .transact_statements(stmt("INSERT INTO users VALUE {'id': 'a', 'v': 1}"))
        .transact_statements(stmt("INSERT INTO users VALUE {'id': 'b', 'v': 1}"))
        .client_request_token("t1")
        .send()
        .await
        .unwrap();
    let err = t
        .client
        .execute_transaction()
        .transact_statements(stmt("UPDATE users SET v = 5 WHERE id = 'a'"))
        .transact_statements(stmt("INSERT INTO users VALUE {'id': 'b'}"))
        .transact_statements(stmt(
            "EXISTS(SELECT * FROM users WHERE id = 'zz' AND v = 7)",
        ))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let ExecuteTransactionError::TransactionCanceledException(e) = err else {
        panic!("{err:?}");
    };
    let codes: Vec<&str> = e
        .cancellation_reasons()
        .iter()
        .map(|r| r.code().unwrap_or(""))
        .collect();
    assert_eq!(
        codes,
        vec!["None", "ValidationError", "ConditionalCheckFailed"]
    );
    // Nothing was applied.
    let out = t
        .client
        .execute_transaction()
        .transact_statements(stmt("SELECT v FROM users WHERE id = 'a'"))
        .transact_statements(stmt("SELECT * FROM users WHERE id = 'zz'"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.responses()[0].item().unwrap()["v"], n("1"));
    assert!(out.responses()[1].item().is_none());
    // The same token and statements answer again; other statements are a mismatch.
    t.client
        .execute_transaction()
        .transact_statements(stmt("INSERT INTO users VALUE {'id': 'a', 'v': 1}"))
        .transact_statements(stmt("INSERT INTO users VALUE {'id': 'b', 'v': 1}"))
        .client_request_token("t1")
        .send()
        .await
        .unwrap();
    let err = t
        .client
        .execute_transaction()
        .transact_statements(stmt("INSERT INTO users VALUE {'id': 'c'}"))
        .client_request_token("t1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            err,
            ExecuteTransactionError::IdempotentParameterMismatchException(_)
        ),
        "{err:?}"
    );
}
