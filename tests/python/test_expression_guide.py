"""The expression chapters of the Amazon DynamoDB Developer Guide, example by example.

Every AWS CLI example in these pages of the guide (a copy lives in
``/work/shared/reference/aws-devguide-docs/``) is replayed here through boto3's
low-level client, with the same expressions, placeholder names and values, and
checked against the result the guide documents:

* ``Expressions.ConditionExpressions.md``      -> ``test_condition_expressions_*``
* ``Expressions.OperatorsAndFunctions.md``     -> ``test_operators_and_functions_*``
* ``Expressions.ProjectionExpressions.md``     -> ``test_projection_expressions_*``
* ``Expressions.UpdateExpressions.md``         -> ``test_update_expressions_*``
* ``Expressions.ExpressionAttributeNames.md``  -> ``test_expression_attribute_names_*``
* ``Expressions.ExpressionAttributeValues.md`` -> ``test_expression_attribute_values_*``

The examples assume a ``ProductCatalog`` table whose partition key is the Number
attribute ``Id`` (no sort key). Each test creates its own uniquely named copy of that
table and deletes it afterwards. The pages refer to two sample items:

* item 456 (``Id``, ``ProductCategory``, ``Price``), written by the guide's own
  ``put-item`` at the top of the condition-expression page, and item 789 at the top of
  the update-expression page;
* item 123, the full ``ProductCatalog`` item of "Specifying item attributes when using
  expressions" (``Expressions.Attributes.md``, not in the local copy; its JSON is the one
  the live guide prints, and it agrees with the result the projection page shows).

Where the guide shows no explicit result, the test asserts what DynamoDB semantics
imply and says so in a comment ("implied:").

Run: ``DDB_ENDPOINT=http://127.0.0.1:8000 python3 -m pytest -q tests/python/test_expression_guide.py``
"""

import os
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

# ---------------------------------------------------------------------------
# fixtures and helpers (same conventions as test_boto3.py)
# ---------------------------------------------------------------------------

# No retries: a retried 500 would hide a server bug.
_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)


@pytest.fixture(scope="module")
def client():
    endpoint = os.environ.get("DDB_ENDPOINT")
    if not endpoint:
        pytest.fail("DDB_ENDPOINT is not set: start `ddb-harness serve` and export DDB_ENDPOINT=http://127.0.0.1:PORT")
    session = boto3.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
    return session.client("dynamodb", endpoint_url=endpoint, config=_CONFIG)


@pytest.fixture
def catalog(client):
    """A fresh ``ProductCatalog`` table: partition key ``Id`` (Number), no sort key."""
    name = f"pytest-ProductCatalog-{uuid.uuid4().hex[:10]}"
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    yield name
    try:
        client.delete_table(TableName=name)
    except ClientError as e:
        if code(e) != "ResourceNotFoundException":
            raise


def code(err):
    return err.response["Error"]["Code"]


def message(err):
    return err.response["Error"]["Message"]


def expect_error(fn, error_code, contains=None, **kwargs):
    with pytest.raises(ClientError) as info:
        fn(**kwargs)
    err = info.value
    assert code(err) == error_code, f"expected {error_code}, got {code(err)}: {message(err)}"
    if contains is not None:
        assert contains in message(err), message(err)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err


def expect_conditional_failure(fn, **kwargs):
    """The guide: "If the condition expression evaluates to false, DynamoDB returns the
    following error message: The conditional request failed." """
    err = expect_error(fn, "ConditionalCheckFailedException", **kwargs)
    assert message(err) == "The conditional request failed"
    return err


_SET_TYPES = ("SS", "NS", "BS")


def norm(value):
    """Make a low-level attribute value (or item) comparable: sets are unordered."""
    if isinstance(value, dict) and len(value) == 1:
        (tag, inner), = value.items()
        if tag in _SET_TYPES:
            return {tag: sorted(inner)}
        if tag == "L":
            return {"L": [norm(v) for v in inner]}
        if tag == "M":
            return {"M": {k: norm(v) for k, v in inner.items()}}
        if tag in ("S", "N", "B", "BOOL", "NULL"):
            return value
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    return value


def get(client, table, key_id, **kwargs):
    """GetItem by Id (a string of digits); returns the item or None."""
    resp = client.get_item(TableName=table, Key={"Id": {"N": key_id}}, ConsistentRead=True, **kwargs)
    return resp.get("Item")


def S(s):
    return {"S": s}


def N(n):
    return {"N": str(n)}


def SS(*xs):
    return {"SS": list(xs)}


def L(*xs):
    return {"L": list(xs)}


# --- sample items ----------------------------------------------------------

# Expressions.ConditionExpressions.md: "The following PutItem operation creates a sample
# ProductCatalog item that the examples refer to." (item.json)
ITEM_456 = {
    "Id": {"N": "456"},
    "ProductCategory": {"S": "Sporting Goods"},
    "Price": {"N": "650"},
}

# Expressions.Attributes.md (the item every projection/names/functions example refers to).
ITEM_123 = {
    "Id": N(123),
    "Title": S("Bicycle 123"),
    "Description": S("123 description"),
    "BicycleType": S("Hybrid"),
    "Brand": S("Brand-Company C"),
    "Price": N(500),
    "Color": SS("Red", "Black"),
    "ProductCategory": S("Bicycle"),
    "InStock": {"BOOL": True},
    "QuantityOnHand": {"NULL": True},
    "RelatedItems": L(N(341), N(472), N(649)),
    "Pictures": {
        "M": {
            "FrontView": S("http://example.com/products/123_front.jpg"),
            "RearView": S("http://example.com/products/123_rear.jpg"),
            "SideView": S("http://example.com/products/123_left_side.jpg"),
        }
    },
    "ProductReviews": {
        "M": {
            "FiveStar": L(
                S("Excellent! Can't recommend it highly enough! Buy it!"),
                S("Do yourself a favor and buy this."),
            ),
            "OneStar": L(S("Terrible product! Do not buy this.")),
        }
    },
    "Comment": S("This product sells out quickly during the summer"),
    "Safety.Warning": S("Always wear a helmet"),
}

# Expressions.UpdateExpressions.md: "The following PutItem operation creates a sample
# item that the examples refer to." (item.json)
ITEM_789 = {
    "Id": {"N": "789"},
    "ProductCategory": {"S": "Home Improvement"},
    "Price": {"N": "52"},
    "InStock": {"BOOL": True},
    "Brand": {"S": "Acme"},
}

KEY_456 = {"Id": {"N": "456"}}
KEY_123 = {"Id": {"N": "123"}}
KEY_789 = {"Id": {"N": "789"}}


# ===========================================================================
# Expressions.ConditionExpressions.md
# ===========================================================================


def put_456(client, table, **extra):
    item = dict(ITEM_456)
    item.update(extra)
    client.put_item(TableName=table, Item=item)
    return item


def test_condition_expressions_sample_item_put(client, catalog):
    # "The following PutItem operation creates a sample ProductCatalog item".
    # implied: the unconditional put succeeds and the item reads back unchanged.
    resp = client.put_item(TableName=catalog, Item=ITEM_456)
    assert "Attributes" not in resp
    assert get(client, catalog, "456") == ITEM_456


def test_condition_expressions_conditional_put(client, catalog):
    # Conditional put: the item from item.json already exists, so
    # attribute_not_exists(Id) is false and the put is refused.
    put_456(client, catalog)
    replacement = dict(ITEM_456, Price={"N": "1"})
    expect_conditional_failure(
        client.put_item,
        TableName=catalog,
        Item=replacement,
        ConditionExpression="attribute_not_exists(Id)",
    )
    assert get(client, catalog, "456") == ITEM_456  # not overwritten


def test_condition_expressions_conditional_put_new_item(client, catalog):
    # implied: "This allows the write to proceed only if the item in question does not
    # already have the same key" - with no item 456 yet, the same request succeeds.
    client.put_item(TableName=catalog, Item=ITEM_456, ConditionExpression="attribute_not_exists(Id)")
    assert get(client, catalog, "456") == ITEM_456


def test_condition_expressions_conditional_deletes(client, catalog):
    put_456(client, catalog)
    values = {
        ":cat1": {"S": "Sporting Goods"},
        ":cat2": {"S": "Gardening Supplies"},
        ":lo": {"N": "500"},
        ":hi": {"N": "600"},
    }
    # "the ProductCategory comparison evaluates to true, but the Price comparison
    # evaluates to false. This causes the condition expression to evaluate to false and
    # the DeleteItem operation to fail."
    expect_conditional_failure(
        client.delete_item,
        TableName=catalog,
        Key={"Id": {"N": "456"}},
        ConditionExpression="(ProductCategory IN (:cat1, :cat2)) and (Price between :lo and :hi)",
        ExpressionAttributeValues=values,
    )
    assert get(client, catalog, "456") == ITEM_456


def test_condition_expressions_conditional_deletes_when_true(client, catalog):
    # implied: the same request deletes the item once both comparisons are true
    # (a Gardening Supplies item priced 550).
    put_456(client, catalog, ProductCategory={"S": "Gardening Supplies"}, Price={"N": "550"})
    client.delete_item(
        TableName=catalog,
        Key={"Id": {"N": "456"}},
        ConditionExpression="(ProductCategory IN (:cat1, :cat2)) and (Price between :lo and :hi)",
        ExpressionAttributeValues={
            ":cat1": {"S": "Sporting Goods"},
            ":cat2": {"S": "Gardening Supplies"},
            ":lo": {"N": "500"},
            ":hi": {"N": "600"},
        },
    )
    assert get(client, catalog, "456") is None


def test_condition_expressions_conditional_updates(client, catalog):
    put_456(client, catalog)
    request = dict(
        TableName=catalog,
        Key={"Id": {"N": "456"}},
        UpdateExpression="SET Price = Price - :discount",
        ConditionExpression="Price > :limit",
        ExpressionAttributeValues={":discount": {"N": "75"}, ":limit": {"N": "500"}},
    )
    # "If the starting Price is 650, the UpdateItem operation reduces the Price to 575."
    client.update_item(**request)
    assert get(client, catalog, "456")["Price"] == {"N": "575"}
    # "If you run the UpdateItem operation again, the Price is reduced to 500."
    client.update_item(**request)
    assert get(client, catalog, "456")["Price"] == {"N": "500"}
    # "If you run it a third time, the condition expression evaluates to false, and the
    # update fails."
    expect_conditional_failure(client.update_item, **request)
    assert get(client, catalog, "456") == dict(ITEM_456, Price={"N": "500"})


def test_condition_expressions_checking_for_attributes_not_exists(client, catalog):
    # attribute_not_exists(Price): the sample item has a Price, so the delete fails
    # (implied: the guide only says "delete a product only if it does not have a Price").
    put_456(client, catalog)
    request = dict(
        TableName=catalog,
        Key={"Id": {"N": "456"}},
        ConditionExpression="attribute_not_exists(Price)",
    )
    expect_conditional_failure(client.delete_item, **request)
    assert get(client, catalog, "456") == ITEM_456
    # implied: without a Price the same request deletes the product.
    client.put_item(TableName=catalog, Item={k: v for k, v in ITEM_456.items() if k != "Price"})
    client.delete_item(**request)
    assert get(client, catalog, "456") is None


def test_condition_expressions_checking_for_attributes_exists(client, catalog):
    # attribute_exists(ProductReviews.OneStar): "deletes a product only if it has received
    # poor reviews". implied: the sample item has no ProductReviews, so the delete fails;
    # once it has a OneStar review, the delete succeeds.
    put_456(client, catalog)
    request = dict(
        TableName=catalog,
        Key={"Id": {"N": "456"}},
        ConditionExpression="attribute_exists(ProductReviews.OneStar)",
    )
    expect_conditional_failure(client.delete_item, **request)
    assert get(client, catalog, "456") == ITEM_456
    # A map without the OneStar key still fails.
    put_456(client, catalog, ProductReviews={"M": {"FiveStar": L(S("Great"))}})
    expect_conditional_failure(client.delete_item, **request)
    put_456(client, catalog, ProductReviews={"M": {"OneStar": L(S("Terrible product! Do not buy this."))}})
    client.delete_item(**request)
    assert get(client, catalog, "456") is None


def test_condition_expressions_checking_for_attribute_type(client, catalog):
    # attribute_type(Color, :v_sub) with :v_sub = "SS": "delete a product only if it has a
    # Color attribute of type String Set". implied: no Color -> fails; a List Color ->
    # fails; a String Set Color -> deleted.
    request = dict(
        TableName=catalog,
        Key={"Id": {"N": "456"}},
        ConditionExpression="attribute_type(Color, :v_sub)",
        ExpressionAttributeValues={":v_sub": {"S": "SS"}},
    )
    put_456(client, catalog)
    expect_conditional_failure(client.delete_item, **request)
    put_456(client, catalog, Color=L(S("Red"), S("Black")))
    expect_conditional_failure(client.delete_item, **request)
    assert get(client, catalog, "456") is not None
    put_456(client, catalog, Color=SS("Red", "Black"))
    client.delete_item(**request)
    assert get(client, catalog, "456") is None


def test_condition_expressions_checking_begins_with(client, catalog):
    # begins_with(Pictures.FrontView, :v_sub) with :v_sub = "http://". implied: no
    # Pictures -> fails; an https:// URL -> fails; an http:// URL -> deleted.
    request = dict(
        TableName=catalog,
        Key={"Id": {"N": "456"}},
        ConditionExpression="begins_with(Pictures.FrontView, :v_sub)",
        ExpressionAttributeValues={":v_sub": {"S": "http://"}},
    )
    put_456(client, catalog)
    expect_conditional_failure(client.delete_item, **request)
    put_456(client, catalog, Pictures={"M": {"FrontView": S("https://example.com/products/456_front.jpg")}})
    expect_conditional_failure(client.delete_item, **request)
    assert get(client, catalog, "456") is not None
    put_456(client, catalog, Pictures={"M": {"FrontView": S("http://example.com/products/456_front.jpg")}})
    client.delete_item(**request)
    assert get(client, catalog, "456") is None


def test_condition_expressions_checking_for_contains(client, catalog):
    # contains(Color, :v_sub) with :v_sub = "Red": "delete a product only if the Color
    # String Set has an element with a specific value". implied: no Color -> fails; a set
    # without Red -> fails; a set with Red -> deleted.
    request = dict(
        TableName=catalog,
        Key={"Id": {"N": "456"}},
        ConditionExpression="contains(Color, :v_sub)",
        ExpressionAttributeValues={":v_sub": {"S": "Red"}},
    )
    put_456(client, catalog)
    expect_conditional_failure(client.delete_item, **request)
    put_456(client, catalog, Color=SS("Black", "Blue"))
    expect_conditional_failure(client.delete_item, **request)
    assert get(client, catalog, "456") is not None
    put_456(client, catalog, Color=SS("Red", "Black"))
    client.delete_item(**request)
    assert get(client, catalog, "456") is None


def test_condition_expressions_checking_for_size(client, catalog):
    # size(VideoClip) > :v_sub with :v_sub = 64000: "delete a product only if the size of
    # the VideoClip Binary attribute is greater than 64000 bytes". implied: no VideoClip ->
    # fails; exactly 64000 bytes -> fails; 64001 bytes -> deleted.
    request = dict(
        TableName=catalog,
        Key={"Id": {"N": "456"}},
        ConditionExpression="size(VideoClip) > :v_sub",
        ExpressionAttributeValues={":v_sub": {"N": "64000"}},
    )
    put_456(client, catalog)
    expect_conditional_failure(client.delete_item, **request)
    put_456(client, catalog, VideoClip={"B": b"\x00" * 64000})
    expect_conditional_failure(client.delete_item, **request)
    assert get(client, catalog, "456") is not None
    put_456(client, catalog, VideoClip={"B": b"\x00" * 64001})
    client.delete_item(**request)
    assert get(client, catalog, "456") is None


# ===========================================================================
# Expressions.OperatorsAndFunctions.md
#
# Each condition is evaluated against item 123 two ways: as a Scan FilterExpression
# (the item is returned iff the condition is true) and as the ConditionExpression of a
# DeleteItem (deleted iff true, ConditionalCheckFailedException otherwise).
# The function examples' expressions are elided in the local copy of this page ("See the
# AWS documentation website"); they are taken verbatim from the live page.
# ===========================================================================


def check_condition(client, table, item, expr, expected, names=None, values=None):
    client.put_item(TableName=table, Item=item)
    kwargs = {}
    if names:
        kwargs["ExpressionAttributeNames"] = names
    if values:
        kwargs["ExpressionAttributeValues"] = values

    scan = client.scan(TableName=table, FilterExpression=expr, ConsistentRead=True, **kwargs)
    assert scan["ScannedCount"] == 1
    assert [norm(i) for i in scan["Items"]] == ([norm(item)] if expected else []), f"filter {expr!r}"
    assert scan["Count"] == (1 if expected else 0)

    key = {"Id": item["Id"]}
    if expected:
        client.delete_item(TableName=table, Key=key, ConditionExpression=expr, **kwargs)
        assert get(client, table, item["Id"]["N"]) is None, f"condition {expr!r}"
    else:
        expect_conditional_failure(client.delete_item, TableName=table, Key=key, ConditionExpression=expr, **kwargs)
        assert norm(get(client, table, item["Id"]["N"])) == norm(item), f"condition {expr!r}"


def test_operators_and_functions_syntax(client, catalog):
    # Every production of the condition-expression grammar, with top-level attribute
    # names and document paths as operands (implied results for item 123).
    v = {":p": N(500), ":lo": N(400), ":hi": N(600), ":a": S("Bicycle"), ":b": S("Toy")}
    cases = [
        ("Price = :p", True),  # operand comparator operand
        ("Price BETWEEN :lo AND :hi", True),  # operand BETWEEN operand AND operand
        ("ProductCategory IN (:a, :b)", True),  # operand IN (operand, operand)
        ("attribute_exists(Pictures.SideView)", True),  # function
        ("Price = :p AND ProductCategory = :b", False),  # condition AND condition
        ("Price = :lo OR ProductCategory = :a", True),  # condition OR condition
        ("NOT Price = :p", False),  # NOT condition
        ("(Price = :p)", True),  # ( condition )
        ("RelatedItems[0] < Price", True),  # document path and attribute on both sides (341 < 500)
    ]
    for expr, expected in cases:
        used = {k: val for k, val in v.items() if k in expr}
        check_condition(client, catalog, ITEM_123, expr, expected, values=used or None)


def test_operators_and_functions_making_comparisons(client, catalog):
    # a = b, a <> b, a < b, a <= b, a > b, a >= b with Price = 500 (implied results).
    for expr, val, expected in [
        ("Price = :v", 500, True),
        ("Price = :v", 499, False),
        ("Price <> :v", 499, True),
        ("Price <> :v", 500, False),
        ("Price < :v", 501, True),
        ("Price < :v", 500, False),
        ("Price <= :v", 500, True),
        ("Price <= :v", 499, False),
        ("Price > :v", 499, True),
        ("Price > :v", 500, False),
        ("Price >= :v", 500, True),
        ("Price >= :v", 501, False),
    ]:
        check_condition(client, catalog, ITEM_123, expr, expected, values={":v": N(val)})


def test_operators_and_functions_making_comparisons_between_and_in(client, catalog):
    # "a BETWEEN b AND c - true if a is greater than or equal to b, and less than or equal
    # to c": both bounds are inclusive.
    for lo, hi, expected in [(500, 600, True), (400, 500, True), (500, 500, True), (501, 600, False), (1, 499, False)]:
        check_condition(
            client, catalog, ITEM_123, "Price BETWEEN :b AND :c", expected, values={":b": N(lo), ":c": N(hi)}
        )
    # "a IN (b, c, d) - true if a is equal to any value in the list".
    check_condition(
        client,
        catalog,
        ITEM_123,
        "ProductCategory IN (:b, :c, :d)",
        True,
        values={":b": S("Toy"), ":c": S("Bicycle"), ":d": S("Book")},
    )
    check_condition(
        client,
        catalog,
        ITEM_123,
        "ProductCategory IN (:b, :c, :d)",
        False,
        values={":b": S("Toy"), ":c": S("Tricycle"), ":d": S("Book")},
    )
    # "The list can contain up to 100 values, separated by commas."
    values = {f":v{i}": N(1000 + i) for i in range(99)}
    values[":v99"] = N(500)
    check_condition(client, catalog, ITEM_123, f"Price IN ({', '.join(values)})", True, values=values)
    values[":v100"] = N(2000)
    client.put_item(TableName=catalog, Item=ITEM_123)
    expect_error(
        client.scan,
        "ValidationException",
        TableName=catalog,
        FilterExpression=f"Price IN ({', '.join(values)})",
        ExpressionAttributeValues=values,
    )


def test_operators_and_functions_attribute_exists(client, catalog):
    # "Check whether an item in the Product table has a side view picture."
    names = {"#Pictures": "Pictures", "#SideView": "SideView"}
    check_condition(client, catalog, ITEM_123, "attribute_exists (#Pictures.#SideView)", True, names=names)
    # implied: an item without a side view picture fails the check.
    pictures = dict(ITEM_123["Pictures"]["M"])
    del pictures["SideView"]
    check_condition(
        client,
        catalog,
        dict(ITEM_123, Pictures={"M": pictures}),
        "attribute_exists (#Pictures.#SideView)",
        False,
        names=names,
    )


def test_operators_and_functions_attribute_not_exists(client, catalog):
    # "Check whether an item has a Manufacturer attribute." Item 123 has none.
    check_condition(client, catalog, ITEM_123, "attribute_not_exists (Manufacturer)", True)
    check_condition(
        client, catalog, dict(ITEM_123, Manufacturer=S("Acme")), "attribute_not_exists (Manufacturer)", False
    )


def test_operators_and_functions_attribute_type(client, catalog):
    # The guide's prose says "Check whether the QuantityOnHand attribute is of type List"
    # but the expression it prints is attribute_type (ProductReviews.FiveStar, :v_sub)
    # with :v_sub = "L". FiveStar is a list, so the printed expression is true.
    check_condition(
        client, catalog, ITEM_123, "attribute_type (ProductReviews.FiveStar, :v_sub)", True, values={":v_sub": S("L")}
    )
    # implied: QuantityOnHand (the prose's attribute) is Null on item 123, not a List.
    check_condition(
        client, catalog, ITEM_123, "attribute_type (QuantityOnHand, :v_sub)", False, values={":v_sub": S("L")}
    )
    check_condition(
        client, catalog, ITEM_123, "attribute_type (QuantityOnHand, :v_sub)", True, values={":v_sub": S("NULL")}
    )
    # "The type parameter must be one of the following: S, SS, N, NS, B, BS, BOOL, NULL,
    # L, M" - each against an attribute of item 123 (or one added) of that type.
    item = dict(ITEM_123, Nums={"NS": ["1", "2"]}, Thumb={"B": b"\x01"}, Thumbs={"BS": [b"\x01", b"\x02"]})
    for path, type_ in [
        ("Title", "S"),
        ("Color", "SS"),
        ("Price", "N"),
        ("Nums", "NS"),
        ("Thumb", "B"),
        ("Thumbs", "BS"),
        ("InStock", "BOOL"),
        ("QuantityOnHand", "NULL"),
        ("RelatedItems", "L"),
        ("Pictures", "M"),
    ]:
        check_condition(client, catalog, item, f"attribute_type ({path}, :v_sub)", True, values={":v_sub": S(type_)})
    # "You must use an expression attribute value for the type parameter" - and it must be
    # one of the listed types.
    client.put_item(TableName=catalog, Item=ITEM_123)
    expect_error(
        client.scan,
        "ValidationException",
        TableName=catalog,
        FilterExpression="attribute_type (Title, :v_sub)",
        ExpressionAttributeValues={":v_sub": S("STRING")},
    )


def test_operators_and_functions_begins_with(client, catalog):
    # "Check whether the first few characters of the front view picture URL are http://."
    check_condition(
        client, catalog, ITEM_123, "begins_with (Pictures.FrontView, :v_sub)", True, values={":v_sub": S("http://")}
    )
    check_condition(
        client, catalog, ITEM_123, "begins_with (Pictures.FrontView, :v_sub)", False, values={":v_sub": S("https://")}
    )


def test_operators_and_functions_contains(client, catalog):
    # "Check whether the Brand attribute contains the substring Company." ("Brand-Company C")
    check_condition(client, catalog, ITEM_123, "contains (Brand, :v_sub)", True, values={":v_sub": S("Company")})
    # "Check whether the product is available in red." (Color is {"Red", "Black"})
    check_condition(client, catalog, ITEM_123, "contains (Color, :v_sub)", True, values={":v_sub": S("Red")})
    # implied: the negative cases.
    check_condition(client, catalog, ITEM_123, "contains (Brand, :v_sub)", False, values={":v_sub": S("company")})
    check_condition(client, catalog, ITEM_123, "contains (Color, :v_sub)", False, values={":v_sub": S("Green")})
    # "A List that contains a particular element within the list." (RelatedItems has 472)
    check_condition(client, catalog, ITEM_123, "contains (RelatedItems, :v_sub)", True, values={":v_sub": N(472)})
    check_condition(client, catalog, ITEM_123, "contains (RelatedItems, :v_sub)", False, values={":v_sub": N(473)})
    # "The path and the operand must be distinct; that is, contains (a, a) returns an error."
    client.put_item(TableName=catalog, Item=ITEM_123)
    expect_error(
        client.scan,
        "ValidationException",
        TableName=catalog,
        FilterExpression="contains (Brand, Brand)",
    )


def test_operators_and_functions_size_string(client, catalog):
    # "Check whether the string Brand is less than or equal to 20 characters."
    # "Brand-Company C" is 15 characters.
    check_condition(client, catalog, ITEM_123, "size (Brand) <= :v_sub", True, values={":v_sub": N(20)})
    check_condition(client, catalog, ITEM_123, "size (Brand) <= :v_sub", False, values={":v_sub": N(14)})


def test_operators_and_functions_size_binary(client, catalog):
    # "Suppose that the ProductCatalog item has a binary attribute named VideoClip ... checks
    # whether VideoClip exceeds 64,000 bytes."
    for length, expected in [(64001, True), (64000, False)]:
        check_condition(
            client,
            catalog,
            dict(ITEM_123, VideoClip={"B": b"\x07" * length}),
            "size(VideoClip) > :v_sub",
            expected,
            values={":v_sub": N(64000)},
        )


def test_operators_and_functions_size_set(client, catalog):
    # "Check whether the product is available in more than one color. The expression
    # attribute value :v_sub is a placeholder for 1." The expression the guide prints is
    # size (Color) < :v_sub; Color has 2 elements, so that expression is false (the prose
    # and the printed expression disagree; DynamoDB evaluates the expression).
    check_condition(client, catalog, ITEM_123, "size (Color) < :v_sub", False, values={":v_sub": N(1)})
    # "more than one color", as the prose means it.
    check_condition(client, catalog, ITEM_123, "size (Color) > :v_sub", True, values={":v_sub": N(1)})
    check_condition(client, catalog, ITEM_123, "size (Color) = :v_sub", True, values={":v_sub": N(2)})


def test_operators_and_functions_size_list_or_map(client, catalog):
    # "Check whether the number of OneStar reviews has exceeded a certain threshold." (3)
    # Item 123 has one OneStar review.
    check_condition(client, catalog, ITEM_123, "size(ProductReviews.OneStar) > :v_sub", False, values={":v_sub": N(3)})
    reviews = dict(ITEM_123["ProductReviews"]["M"], OneStar=L(*[S(f"bad {i}") for i in range(4)]))
    check_condition(
        client,
        catalog,
        dict(ITEM_123, ProductReviews={"M": reviews}),
        "size(ProductReviews.OneStar) > :v_sub",
        True,
        values={":v_sub": N(3)},
    )
    # Map: "size returns the number of child elements" (Pictures has 3).
    check_condition(client, catalog, ITEM_123, "size(Pictures) = :v_sub", True, values={":v_sub": N(3)})


# Three conditions on item 123 for the logical sections: a and b true, c false.
_A = "Price = :p"  # true (Price is 500)
_B = "InStock = :t"  # true
_C = "Title = :x"  # false (Title is "Bicycle 123")
_ABC = {":p": N(500), ":t": {"BOOL": True}, ":x": S("Unicycle")}


def test_operators_and_functions_logical_evaluations(client, catalog):
    cases = [
        # a AND b - true if a and b are both true.
        (f"{_A} AND {_B}", True),
        (f"{_A} AND {_C}", False),
        (f"{_C} AND {_A}", False),
        # a OR b - true if either a or b (or both) are true.
        (f"{_A} OR {_B}", True),
        (f"{_A} OR {_C}", True),
        (f"{_C} OR {_A}", True),
        (f"{_C} OR {_C}", False),
        # NOT a - true if a is false; false if a is true.
        (f"NOT {_C}", True),
        (f"NOT {_A}", False),
    ]
    for expr, expected in cases:
        used = {k: v for k, v in _ABC.items() if k in expr}
        check_condition(client, catalog, ITEM_123, expr, expected, values=used)


def test_operators_and_functions_parentheses(client, catalog):
    # "suppose that conditions a and b are true, and that condition c is false. The
    # following expression evaluates to true: a OR b AND c"
    check_condition(client, catalog, ITEM_123, f"{_A} OR {_B} AND {_C}", True, values=_ABC)
    # "the following evaluates to false: (a OR b) AND c"
    check_condition(client, catalog, ITEM_123, f"({_A} OR {_B}) AND {_C}", False, values=_ABC)
    # "You can nest parentheses in an expression. The innermost ones are evaluated first."
    check_condition(client, catalog, ITEM_123, f"(({_A} OR {_B}) AND {_C}) OR {_A}", True, values=_ABC)
    check_condition(client, catalog, ITEM_123, f"(({_A} OR ({_B})) AND ({_C}))", False, values=_ABC)


def test_operators_and_functions_precedence(client, catalog):
    # Precedence: comparators, IN, BETWEEN, functions, parentheses, NOT, AND, OR
    # (implied results on item 123).
    cases = [
        # NOT binds tighter than AND: NOT a AND c = (NOT a) AND c -> false, whereas
        # NOT (a AND c) -> true.
        (f"NOT {_A} AND {_C}", False),
        (f"NOT ({_A} AND {_C})", True),
        # NOT binds tighter than OR: (NOT a) OR b -> true; NOT (a OR b) -> false.
        (f"NOT {_A} OR {_B}", True),
        (f"NOT ({_A} OR {_B})", False),
        # AND binds tighter than OR, also on the left: c AND a OR b = (c AND a) OR b -> true.
        (f"{_C} AND {_A} OR {_B}", True),
        (f"{_C} AND ({_A} OR {_B})", False),
        # Comparisons and functions bind tighter than NOT/AND/OR.
        ("NOT contains(Color, :x) AND Price BETWEEN :p AND :p", True),
    ]
    for expr, expected in cases:
        used = {k: v for k, v in _ABC.items() if k in expr}
        check_condition(client, catalog, ITEM_123, expr, expected, values=used)


# ===========================================================================
# Expressions.ProjectionExpressions.md
# ===========================================================================


def project(client, table, expr, names=None, key=KEY_123):
    kwargs = {"ExpressionAttributeNames": names} if names else {}
    return client.get_item(TableName=table, Key=key, ProjectionExpression=expr, **kwargs)


def test_projection_expressions_single_top_level_attribute(client, catalog):
    # "A single top-level attribute." implied: only Title comes back (not even the key).
    client.put_item(TableName=catalog, Item=ITEM_123)
    assert project(client, catalog, "Title ")["Item"] == {"Title": S("Bicycle 123")}


def test_projection_expressions_three_top_level_attributes(client, catalog):
    # "Three top-level attributes. DynamoDB retrieves the entire Color set."
    client.put_item(TableName=catalog, Item=ITEM_123)
    item = project(client, catalog, "Title, Price, Color")["Item"]
    assert norm(item) == norm({"Title": S("Bicycle 123"), "Price": N(500), "Color": SS("Red", "Black")})


def test_projection_expressions_four_top_level_attributes(client, catalog):
    # "Four top-level attributes. DynamoDB returns the entire contents of RelatedItems and
    # ProductReviews."
    client.put_item(TableName=catalog, Item=ITEM_123)
    item = project(client, catalog, "Title, Description, RelatedItems, ProductReviews")["Item"]
    assert item == {
        "Title": ITEM_123["Title"],
        "Description": ITEM_123["Description"],
        "RelatedItems": ITEM_123["RelatedItems"],
        "ProductReviews": ITEM_123["ProductReviews"],
    }


def test_projection_expressions_get_item(client, catalog):
    # The GetItem example with key.json {"Id": {"N": "123"}}, and the JSON the guide shows.
    client.put_item(TableName=catalog, Item=ITEM_123)
    resp = client.get_item(
        TableName=catalog,
        Key={"Id": {"N": "123"}},
        ProjectionExpression="Description, RelatedItems[0], ProductReviews.FiveStar",
    )
    assert resp["Item"] == {
        "Description": {"S": "123 description"},
        "ProductReviews": {
            "M": {
                "FiveStar": {
                    "L": [
                        {"S": "Excellent! Can't recommend it highly enough! Buy it!"},
                        {"S": "Do yourself a favor and buy this."},
                    ]
                }
            }
        },
        "RelatedItems": {"L": [{"N": "341"}]},
    }


def test_projection_expressions_attribute_name_rules(client, catalog):
    # "You can use any attribute name in a projection expression, provided that the first
    # character is a-z or A-Z ... If an attribute name does not meet this requirement, you
    # must define an expression attribute name as a placeholder."
    # implied: a name starting with a digit is a syntax error; through a placeholder it works.
    client.put_item(TableName=catalog, Item=dict(ITEM_123, **{"3DModel": S("bike.stl")}))
    expect_error(project, "ValidationException", client=client, table=catalog, expr="3DModel")
    assert project(client, catalog, "#m", names={"#m": "3DModel"})["Item"] == {"3DModel": S("bike.stl")}


# ===========================================================================
# Expressions.UpdateExpressions.md
#
# The SET/REMOVE/ADD/DELETE examples form a walkthrough on item 789: later examples say
# so explicitly ("In Adding elements to a list, you create the RelatedItems list ...").
# Each test starts from the guide's put-item and replays, in the guide's order, the
# examples before it (each checked where it is the test's subject).
# ===========================================================================


def update_789(client, table, expr, names=None, values=None):
    kwargs = {}
    if names is not None:
        kwargs["ExpressionAttributeNames"] = names
    if values is not None:
        kwargs["ExpressionAttributeValues"] = values
    resp = client.update_item(
        TableName=table,
        Key={"Id": {"N": "789"}},
        UpdateExpression=expr,
        ReturnValues="ALL_NEW",
        **kwargs,
    )
    # "--return-values ALL_NEW causes DynamoDB to return the item as it appears after the
    # update": the returned attributes are the whole stored item.
    assert norm(resp["Attributes"]) == norm(get(client, table, "789"))
    return resp["Attributes"]


def step_put(client, table):
    client.put_item(TableName=table, Item=ITEM_789)


def step_modifying_attributes(client, table):
    return update_789(
        client,
        table,
        "SET ProductCategory = :c, Price = :p",
        values={":c": {"S": "Hardware"}, ":p": {"N": "60"}},
    )


def step_adding_lists_and_maps(client, table):
    return update_789(
        client,
        table,
        "SET RelatedItems = :ri, ProductReviews = :pr",
        values={
            ":ri": {"L": [{"S": "Hammer"}]},
            ":pr": {"M": {"FiveStar": {"L": [{"S": "Best product ever!"}]}}},
        },
    )


def step_adding_list_elements(client, table):
    return update_789(client, table, "SET RelatedItems[1] = :ri", values={":ri": {"S": "Nails"}})


def step_adding_nested_map_attributes(client, table):
    return update_789(
        client,
        table,
        "SET #pr.#5star[1] = :r5, #pr.#3star = :r3",
        names={"#pr": "ProductReviews", "#5star": "FiveStar", "#3star": "ThreeStar"},
        values={
            ":r5": {"S": "Very happy with my purchase"},
            ":r3": {"L": [{"S": "Just OK - not that great"}]},
        },
    )


def step_decrement(client, table):
    return update_789(client, table, "SET Price = Price - :p", values={":p": {"N": "15"}})


def step_list_append(client, table):
    return update_789(
        client,
        table,
        "SET #ri = list_append(#ri, :vals)",
        names={"#ri": "RelatedItems"},
        values={":vals": {"L": [{"S": "Screwdriver"}, {"S": "Hacksaw"}]}},
    )


def step_list_prepend(client, table):
    return update_789(
        client,
        table,
        "SET #ri = list_append(:vals, #ri)",
        names={"#ri": "RelatedItems"},
        values={":vals": {"L": [{"S": "Chisel"}]}},
    )


def step_if_not_exists(client, table):
    return update_789(client, table, "SET Price = if_not_exists(Price, :p)", values={":p": {"N": "100"}})


def step_remove_attributes(client, table):
    return update_789(client, table, "REMOVE Brand, InStock, QuantityOnHand")


def step_remove_list_elements(client, table):
    return update_789(client, table, "REMOVE RelatedItems[1], RelatedItems[2]")


def step_add_number(client, table):
    return update_789(client, table, "ADD QuantityOnHand :q", values={":q": {"N": "5"}})


def step_add_set(client, table):
    return update_789(client, table, "ADD Color :c", values={":c": {"SS": ["Orange", "Purple"]}})


def step_add_more_to_set(client, table):
    return update_789(client, table, "ADD Color :c", values={":c": {"SS": ["Yellow", "Green", "Blue"]}})


def step_delete_from_set(client, table):
    return update_789(client, table, "DELETE Color :p", values={":p": {"SS": ["Yellow", "Purple"]}})


WALKTHROUGH = [
    step_put,
    step_modifying_attributes,
    step_adding_lists_and_maps,
    step_adding_list_elements,
    step_adding_nested_map_attributes,
    step_decrement,
    step_list_append,
    step_list_prepend,
    step_if_not_exists,
    step_remove_attributes,
    step_remove_list_elements,
    step_add_number,
    step_add_set,
    step_add_more_to_set,
    step_delete_from_set,
]


def replay_until(client, table, step):
    """Run the walkthrough steps before `step`."""
    for s in WALKTHROUGH[: WALKTHROUGH.index(step)]:
        s(client, table)


def test_update_expressions_set_sample_item_put(client, catalog):
    # implied: the sample put-item stores item.json as-is.
    step_put(client, catalog)
    assert get(client, catalog, "789") == ITEM_789


def test_update_expressions_set_modifying_attributes(client, catalog):
    replay_until(client, catalog, step_modifying_attributes)
    # implied: ProductCategory and Price are overwritten, the rest is untouched.
    assert step_modifying_attributes(client, catalog) == {
        "Id": {"N": "789"},
        "ProductCategory": {"S": "Hardware"},
        "Price": {"N": "60"},
        "InStock": {"BOOL": True},
        "Brand": {"S": "Acme"},
    }


def test_update_expressions_set_adding_lists_and_maps(client, catalog):
    replay_until(client, catalog, step_adding_lists_and_maps)
    # implied: "Add a new list and a new map" alongside the existing attributes.
    assert step_adding_lists_and_maps(client, catalog) == {
        "Id": {"N": "789"},
        "ProductCategory": {"S": "Hardware"},
        "Price": {"N": "60"},
        "InStock": {"BOOL": True},
        "Brand": {"S": "Acme"},
        "RelatedItems": {"L": [{"S": "Hammer"}]},
        "ProductReviews": {"M": {"FiveStar": {"L": [{"S": "Best product ever!"}]}}},
    }


def test_update_expressions_set_adding_list_elements(client, catalog):
    replay_until(client, catalog, step_adding_list_elements)
    item = step_adding_list_elements(client, catalog)
    # "you create the RelatedItems list and populate it with two elements: Hammer and Nails"
    assert item["RelatedItems"] == {"L": [{"S": "Hammer"}, {"S": "Nails"}]}
    assert item["ProductReviews"] == {"M": {"FiveStar": {"L": [{"S": "Best product ever!"}]}}}
    # "When you use SET to update a list element, the contents of that element are replaced
    # with the new data that you specify."
    item = update_789(client, catalog, "SET RelatedItems[1] = :ri", values={":ri": {"S": "Nails"}})
    assert item["RelatedItems"] == {"L": [{"S": "Hammer"}, {"S": "Nails"}]}
    item = update_789(client, catalog, "SET RelatedItems[0] = :ri", values={":ri": {"S": "Mallet"}})
    assert item["RelatedItems"] == {"L": [{"S": "Mallet"}, {"S": "Nails"}]}
    # "If the element doesn't already exist, SET appends the new element at the end of the list."
    item = update_789(client, catalog, "SET RelatedItems[7] = :ri", values={":ri": {"S": "Saw"}})
    assert item["RelatedItems"] == {"L": [{"S": "Mallet"}, {"S": "Nails"}, {"S": "Saw"}]}
    # "If you add multiple elements in a single SET operation, the elements are sorted in
    # order by element number."
    item = update_789(
        client,
        catalog,
        "SET RelatedItems[20] = :b, RelatedItems[10] = :a",
        values={":a": {"S": "Level"}, ":b": {"S": "Tape"}},
    )
    assert item["RelatedItems"] == {
        "L": [{"S": "Mallet"}, {"S": "Nails"}, {"S": "Saw"}, {"S": "Level"}, {"S": "Tape"}]
    }


def test_update_expressions_set_adding_nested_map_attributes(client, catalog):
    replay_until(client, catalog, step_adding_nested_map_attributes)
    item = step_adding_nested_map_attributes(client, catalog)
    # implied: FiveStar gains a second review, ThreeStar is a new list in the map.
    assert item["ProductReviews"] == {
        "M": {
            "FiveStar": {"L": [{"S": "Best product ever!"}, {"S": "Very happy with my purchase"}]},
            "ThreeStar": {"L": [{"S": "Just OK - not that great"}]},
        }
    }
    assert item["RelatedItems"] == {"L": [{"S": "Hammer"}, {"S": "Nails"}]}


def test_update_expressions_set_increment_and_decrement(client, catalog):
    replay_until(client, catalog, step_decrement)
    # implied: "Decrease the Price of an item" by 15: 60 (after Modifying attributes) -> 45.
    assert step_decrement(client, catalog)["Price"] == {"N": "45"}
    # "To increase the Price, you would use the + operator in the update expression."
    item = update_789(client, catalog, "SET Price = Price + :p", values={":p": {"N": "15"}})
    assert item["Price"] == {"N": "60"}


def test_update_expressions_set_appending_list_elements(client, catalog):
    replay_until(client, catalog, step_list_append)
    # implied: Screwdriver and Hacksaw are appended after Hammer and Nails.
    item = step_list_append(client, catalog)
    assert item["RelatedItems"] == {"L": [{"S": "Hammer"}, {"S": "Nails"}, {"S": "Screwdriver"}, {"S": "Hacksaw"}]}
    # "The resulting RelatedItems attribute now contains five elements, in the following
    # order: Chisel, Hammer, Nails, Screwdriver, Hacksaw."
    item = step_list_prepend(client, catalog)
    assert item["RelatedItems"] == {
        "L": [{"S": "Chisel"}, {"S": "Hammer"}, {"S": "Nails"}, {"S": "Screwdriver"}, {"S": "Hacksaw"}]
    }


def test_update_expressions_set_preventing_attribute_overwrites(client, catalog):
    replay_until(client, catalog, step_if_not_exists)
    before = get(client, catalog, "789")
    assert before["Price"] == {"N": "45"}
    # "If Price already exists, nothing happens."
    item = step_if_not_exists(client, catalog)
    assert item == before
    # implied: "If the item does not contain an attribute at the specified path,
    # if_not_exists evaluates to value" - without a Price, Price becomes 100.
    update_789(client, catalog, "REMOVE Price")
    item = step_if_not_exists(client, catalog)
    assert item["Price"] == {"N": "100"}


def test_update_expressions_remove(client, catalog):
    replay_until(client, catalog, step_remove_attributes)
    before = get(client, catalog, "789")
    assert "QuantityOnHand" not in before
    # "Remove some attributes from an item. (If the attributes don't exist, nothing happens.)"
    item = step_remove_attributes(client, catalog)
    expected = {k: v for k, v in before.items() if k not in ("Brand", "InStock")}
    assert item == expected
    assert sorted(item) == ["Id", "Price", "ProductCategory", "ProductReviews", "RelatedItems"]


def test_update_expressions_remove_removing_list_elements(client, catalog):
    replay_until(client, catalog, step_remove_list_elements)
    # The list the guide starts from: [0] Chisel [1] Hammer [2] Nails [3] Screwdriver [4] Hacksaw
    assert get(client, catalog, "789")["RelatedItems"] == {
        "L": [{"S": "Chisel"}, {"S": "Hammer"}, {"S": "Nails"}, {"S": "Screwdriver"}, {"S": "Hacksaw"}]
    }
    # "After Hammer and Nails are removed, the remaining elements are shifted. The list now
    # contains the following: [0] Chisel [1] Screwdriver [2] Hacksaw"
    item = step_remove_list_elements(client, catalog)
    assert item["RelatedItems"] == {"L": [{"S": "Chisel"}, {"S": "Screwdriver"}, {"S": "Hacksaw"}]}


def test_update_expressions_add_number(client, catalog):
    replay_until(client, catalog, step_add_number)
    assert "QuantityOnHand" not in get(client, catalog, "789")
    # "Assume that the QuantityOnHand attribute does not exist. The following AWS CLI
    # example sets QuantityOnHand to 5."
    assert step_add_number(client, catalog)["QuantityOnHand"] == {"N": "5"}
    # "Now that QuantityOnHand exists, you can rerun the example to increment
    # QuantityOnHand by 5 each time."
    assert step_add_number(client, catalog)["QuantityOnHand"] == {"N": "10"}
    assert step_add_number(client, catalog)["QuantityOnHand"] == {"N": "15"}
    # "If the value is a negative number, it is subtracted from the existing attribute."
    item = update_789(client, catalog, "ADD QuantityOnHand :q", values={":q": {"N": "-7"}})
    assert item["QuantityOnHand"] == {"N": "8"}


def test_update_expressions_add_set(client, catalog):
    replay_until(client, catalog, step_add_set)
    assert "Color" not in get(client, catalog, "789")
    # "Assume that the Color attribute does not exist. The following AWS CLI example sets
    # Color to a string set with two elements."
    assert norm(step_add_set(client, catalog)["Color"]) == {"SS": ["Orange", "Purple"]}
    # "Now that Color exists, you can add more elements to it." implied: the union.
    assert norm(step_add_more_to_set(client, catalog)["Color"]) == {
        "SS": sorted(["Orange", "Purple", "Yellow", "Green", "Blue"])
    }


def test_update_expressions_add_only_numbers_and_sets(client, catalog):
    # "The ADD action supports only number and set data types." implied: ADD with a
    # String value, or onto a String attribute, is rejected with a ValidationException.
    step_put(client, catalog)
    expect_error(
        client.update_item,
        "ValidationException",
        TableName=catalog,
        Key=KEY_789,
        UpdateExpression="ADD Label :v",
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    expect_error(
        client.update_item,
        "ValidationException",
        TableName=catalog,
        Key=KEY_789,
        UpdateExpression="ADD Brand :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    )
    assert get(client, catalog, "789") == ITEM_789


def test_update_expressions_delete(client, catalog):
    replay_until(client, catalog, step_delete_from_set)
    # "This example removes some of the elements from that set." implied: Yellow and
    # Purple are gone; Orange, Green, Blue remain.
    item = step_delete_from_set(client, catalog)
    assert norm(item["Color"]) == {"SS": ["Blue", "Green", "Orange"]}
    # The whole walkthrough's final item (implied by all the steps above).
    assert norm(item) == norm(
        {
            "Id": {"N": "789"},
            "ProductCategory": {"S": "Hardware"},
            "Price": {"N": "45"},
            "RelatedItems": {"L": [{"S": "Chisel"}, {"S": "Screwdriver"}, {"S": "Hacksaw"}]},
            "ProductReviews": {
                "M": {
                    "FiveStar": {"L": [{"S": "Best product ever!"}, {"S": "Very happy with my purchase"}]},
                    "ThreeStar": {"L": [{"S": "Just OK - not that great"}]},
                }
            },
            "QuantityOnHand": {"N": "5"},
            "Color": {"SS": ["Orange", "Green", "Blue"]},
        }
    )


def test_update_expressions_delete_only_sets(client, catalog):
    # "The DELETE action supports only Set data types." implied: DELETE with a List value
    # is rejected with a ValidationException.
    step_put(client, catalog)
    expect_error(
        client.update_item,
        "ValidationException",
        TableName=catalog,
        Key=KEY_789,
        UpdateExpression="DELETE Brand :v",
        ExpressionAttributeValues={":v": {"L": [{"S": "Acme"}]}},
    )
    assert get(client, catalog, "789") == ITEM_789


def test_update_expressions_each_clause_keyword_once(client, catalog):
    # "You can include any of these clauses in an update expression, in any order.
    # However, each action keyword can appear only once."
    step_put(client, catalog)
    item = update_789(
        client,
        catalog,
        "DELETE Color :d ADD QuantityOnHand :q REMOVE InStock SET Price = :p",
        values={":d": {"SS": ["Red"]}, ":q": {"N": "1"}, ":p": {"N": "53"}},
    )
    assert item == {
        "Id": {"N": "789"},
        "ProductCategory": {"S": "Home Improvement"},
        "Price": {"N": "53"},
        "Brand": {"S": "Acme"},
        "QuantityOnHand": {"N": "1"},
    }
    expect_error(
        client.update_item,
        "ValidationException",
        TableName=catalog,
        Key=KEY_789,
        UpdateExpression="SET Price = :p SET Brand = :b",
        ExpressionAttributeValues={":p": {"N": "1"}, ":b": {"S": "x"}},
    )


# ===========================================================================
# Expressions.ExpressionAttributeNames.md
# ===========================================================================


def test_expression_attribute_names_reserved_words(client, catalog):
    client.put_item(TableName=catalog, Item=ITEM_123)
    # "the following AWS CLI example would fail because COMMENT is a reserved word."
    expect_error(
        client.get_item,
        "ValidationException",
        contains="Attribute name is a reserved keyword; reserved keyword: Comment",
        TableName=catalog,
        Key={"Id": {"N": "123"}},
        ProjectionExpression="Comment",
    )
    # "To work around this, you can replace Comment with an expression attribute name"
    resp = client.get_item(
        TableName=catalog,
        Key={"Id": {"N": "123"}},
        ProjectionExpression="#c",
        ExpressionAttributeNames={"#c": "Comment"},
    )
    assert resp["Item"] == {"Comment": {"S": "This product sells out quickly during the summer"}}


def test_expression_attribute_names_special_characters(client, catalog):
    client.put_item(TableName=catalog, Item=ITEM_123)
    # "DynamoDB would return an empty result, rather than the expected string": the dot is
    # a document-path separator, and item 123 has no Safety map.
    resp = client.get_item(
        TableName=catalog,
        Key={"Id": {"N": "123"}},
        ProjectionExpression="Safety.Warning",
    )
    assert resp.get("Item", {}) == {}  # no attributes projected (both emulators send "Item": {})
    # "DynamoDB would then return the correct result."
    resp = client.get_item(
        TableName=catalog,
        Key={"Id": {"N": "123"}},
        ProjectionExpression="#sw",
        ExpressionAttributeNames={"#sw": "Safety.Warning"},
    )
    assert resp["Item"] == {"Safety.Warning": {"S": "Always wear a helmet"}}


def test_expression_attribute_names_nested_attributes(client, catalog):
    client.put_item(TableName=catalog, Item=ITEM_123)
    one_star = {"ProductReviews": {"M": {"OneStar": {"L": [{"S": "Terrible product! Do not buy this."}]}}}}
    # "The result would contain all of the one-star product reviews, which is expected."
    resp = client.get_item(
        TableName=catalog,
        Key={"Id": {"N": "123"}},
        ProjectionExpression="ProductReviews.OneStar",
    )
    assert resp["Item"] == one_star
    # "DynamoDB would return an empty result instead of the expected map of one-star
    # reviews" - #pr1star names a top-level attribute called "ProductReviews.OneStar".
    resp = client.get_item(
        TableName=catalog,
        Key={"Id": {"N": "123"}},
        ProjectionExpression="#pr1star",
        ExpressionAttributeNames={"#pr1star": "ProductReviews.OneStar"},
    )
    assert resp.get("Item", {}) == {}  # no attributes projected (both emulators send "Item": {})
    # "You could then use #pr.#1star for the projection expression. DynamoDB would then
    # return the correct result."
    resp = client.get_item(
        TableName=catalog,
        Key={"Id": {"N": "123"}},
        ProjectionExpression="#pr.#1star",
        ExpressionAttributeNames={"#pr": "ProductReviews", "#1star": "OneStar"},
    )
    assert resp["Item"] == one_star


def test_expression_attribute_names_repeating_attribute_names(client, catalog):
    client.put_item(TableName=catalog, Item=ITEM_123)
    # implied: "retrieving some of the reviews" - item 123 has FiveStar and OneStar reviews
    # but no ThreeStar, so the result holds those two lists; both spellings agree.
    expected = {
        "ProductReviews": {
            "M": {
                "FiveStar": ITEM_123["ProductReviews"]["M"]["FiveStar"],
                "OneStar": ITEM_123["ProductReviews"]["M"]["OneStar"],
            }
        }
    }
    resp = client.get_item(
        TableName=catalog,
        Key={"Id": {"N": "123"}},
        ProjectionExpression="ProductReviews.FiveStar, ProductReviews.ThreeStar, ProductReviews.OneStar",
    )
    assert resp["Item"] == expected
    resp = client.get_item(
        TableName=catalog,
        Key={"Id": {"N": "123"}},
        ProjectionExpression="#pr.FiveStar, #pr.ThreeStar, #pr.OneStar",
        ExpressionAttributeNames={"#pr": "ProductReviews"},
    )
    assert resp["Item"] == expected


def test_expression_attribute_names_undefined_or_unused(client, catalog):
    # "If you define an expression attribute name, you must use it consistently throughout
    # the entire expression. Also, you cannot omit the # symbol."
    # implied: a defined name that the expression does not use, and a #name the request
    # does not define, are both ValidationExceptions.
    client.put_item(TableName=catalog, Item=ITEM_123)
    expect_error(
        client.get_item,
        "ValidationException",
        TableName=catalog,
        Key=KEY_123,
        ProjectionExpression="ProductReviews.FiveStar, ProductReviews.OneStar",
        ExpressionAttributeNames={"#pr": "ProductReviews"},
    )
    expect_error(
        client.get_item,
        "ValidationException",
        TableName=catalog,
        Key=KEY_123,
        ProjectionExpression="#pr.FiveStar, #px.OneStar",
        ExpressionAttributeNames={"#pr": "ProductReviews"},
    )


# ===========================================================================
# Expressions.ExpressionAttributeValues.md
# ===========================================================================


def test_expression_attribute_values_scan_filter(client, catalog):
    # "return all of the ProductCatalog items that are available in Black and cost 500 or
    # less" - item 123 (Red/Black, 500) plus items around both boundaries.
    items = [
        ITEM_123,
        {"Id": N(201), "Color": SS("Black"), "Price": N(499)},  # matches
        {"Id": N(202), "Color": SS("Black", "Blue"), "Price": N(501)},  # too expensive
        {"Id": N(203), "Color": SS("Blue"), "Price": N(100)},  # not Black
        {"Id": N(204), "Price": N(100)},  # no Color
        {"Id": N(205), "Color": SS("Black")},  # no Price
        {"Id": N(206), "Color": S("Black"), "Price": N(10)},  # Color a string containing "Black"
    ]
    for item in items:
        client.put_item(TableName=catalog, Item=item)
    resp = client.scan(
        TableName=catalog,
        FilterExpression="contains(Color, :c) and Price <= :p",
        ExpressionAttributeValues={":c": {"S": "Black"}, ":p": {"N": "500"}},
    )
    # "A Scan operation reads every item in a table ... items that don't match the filter
    # expression are discarded."
    assert resp["ScannedCount"] == len(items)
    assert sorted(i["Id"]["N"] for i in resp["Items"]) == ["123", "201", "206"]
    assert resp["Count"] == 3
    assert norm(next(i for i in resp["Items"] if i["Id"]["N"] == "123")) == norm(ITEM_123)


def test_expression_attribute_values_undefined_or_unused(client, catalog):
    # "If you define an expression attribute value, you must use it consistently throughout
    # the entire expression. Also, you can't omit the : symbol."
    # implied: an unused :value and an undefined :value are both ValidationExceptions.
    client.put_item(TableName=catalog, Item=ITEM_123)
    expect_error(
        client.scan,
        "ValidationException",
        TableName=catalog,
        FilterExpression="contains(Color, :c)",
        ExpressionAttributeValues={":c": {"S": "Black"}, ":p": {"N": "500"}},
    )
    expect_error(
        client.scan,
        "ValidationException",
        TableName=catalog,
        FilterExpression="contains(Color, :c) and Price <= :p",
        ExpressionAttributeValues={":c": {"S": "Black"}},
    )


def test_expression_attribute_values_in_every_expression_kind(client, catalog):
    # "Expression attribute values are used with key condition expressions, condition
    # expressions, update expressions, and filter expressions." implied: each kind accepts
    # the same :placeholders.
    client.put_item(TableName=catalog, Item=ITEM_123)
    resp = client.query(
        TableName=catalog,
        KeyConditionExpression="Id = :id",
        FilterExpression="Price <= :p",
        ExpressionAttributeValues={":id": N(123), ":p": N(500)},
    )
    assert [i["Id"] for i in resp["Items"]] == [N(123)]
    resp = client.update_item(
        TableName=catalog,
        Key=KEY_123,
        UpdateExpression="SET Price = :new",
        ConditionExpression="Price = :old",
        ExpressionAttributeValues={":new": N(450), ":old": N(500)},
        ReturnValues="UPDATED_NEW",
    )
    assert resp["Attributes"] == {"Price": N(450)}
