import json
import unittest

from hello_web.app import respond


class RespondTest(unittest.TestCase):
    def test_healthz(self):
        self.assertEqual(respond("/healthz"), (200, "text/plain; charset=utf-8", "ok\n"))

    def test_root_says_hello(self):
        status, content_type, body = respond("/?x=1")
        self.assertEqual((status, content_type), (200, "application/json"))
        self.assertEqual(json.loads(body)["hello"], "world")

    def test_unknown_path(self):
        status, _, body = respond("/nope")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["path"], "/nope")


if __name__ == "__main__":
    unittest.main()
