# parametrize tuples of microsoft/presidio presidio-analyzer/tests/test_phone_recognizer.py @ 01b4ed1c88aad0c1145f452515ab4fe94e966bed
        ("My US number is (415) 555-0132, and my international one is +1 415 555 0132",
         2, ["INTERNATIONAL_PHONE_NUMBER", "US_PHONE_NUMBER"],
         ((60, 75), (16, 30),), 0.6),
        ("My Israeli number is 09-7625400", 1, ["IL_PHONE_NUMBER"], ((21, 31), ), 0.6),
