# cases of microsoft/presidio presidio-analyzer/tests/test_email_recognizer.py @ 0f1a17d18edba924b5eab13e5cad1a148435a2c7 (unittest methods), written as tuples
        ("info@presidio.site", 1, ((0, 18),),),
        ("my email is info@presidio.site", 1, ((12, 30),),),
        ("try one of this emails: info@presidio.site or anotherinfo@presidio.site", 2, ((24, 42), (46, 71),),),
        ("the email is my email is info@presidio.", 0, ()),
