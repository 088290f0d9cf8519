"""Cards. Test mode only: Stripe's test cards (``test_cards``), checked as Stripe checks them
(``numbers``), described by the PaymentMethod's ``card`` hash (``card_hash``), authorized at once by
``test_mode``'s connector, with 3D Secure on kassa's own page (``three_d_secure``).

A full card number or CVC never leaves this package: what goes out is the card hash (brand, last4,
fingerprint, …) and the internal name of the test card, never the number.
"""
