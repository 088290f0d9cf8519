def test_create_and_retrieve(client):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    assert intent.status == "requires_payment_method"
    again = client.v1.payment_intents.retrieve(intent.id)
    assert again.id == intent.id
