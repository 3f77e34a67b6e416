"""A small Python command for weld: prints a greeting, its arguments, a few computed values
(sorting, a dict, JSON, sha256) and fails (exit status 1) when asked to with `fail`."""

import hashlib
import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import environment


class Run(exports.Run):
    def run(self) -> None:
        args = environment.get_arguments()[1:]
        print("Hello from Python in weld!")
        print("args:", json.dumps(args))
        words = sorted(set(" ".join(args).split()), key=lambda w: (-len(w), w))
        print("longest first:", words)
        squares = {n: n * n for n in range(1, 8)}
        print("sum of squares:", sum(squares.values()))
        print("sha256(weld):", hashlib.sha256(b"weld").hexdigest())
        if "fail" in args:
            raise Err(None)
