"""Constants shared by the sandbox tests (a uniquely named module, so no clash with other conftests)."""

TOKEN = "123456789:AAHsandbox-test_token0123"
BOT_ID = 123456789
RESIDENT = 10001
NEIGHBOUR = 10002
PERSONAS = [
    {"id": RESIDENT, "name": "张阿姨", "username": "zhang_ayi", "role_label": "居民"},
    {"id": NEIGHBOUR, "name": "李师傅", "role_label": "居民"},
]
