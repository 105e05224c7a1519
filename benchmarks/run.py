"""`./dev bench NAME [ARGS]`: runs benchmarks/NAME/run.py, which prints its figures side by side with
the peer it is compared against (nginx for the proxy, the monolith for a service, ...)."""
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.parent.name for p in HERE.glob("*/run.py"))


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in available():
        sys.exit(f"usage: ./dev bench NAME [ARGS]; NAME is one of: {', '.join(available())}")
    name = sys.argv[1]
    sys.argv = [str(HERE / name / "run.py"), *sys.argv[2:]]
    sys.path[:0] = [str(HERE.parent), str(HERE.parent / "legacy_monolith")]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
