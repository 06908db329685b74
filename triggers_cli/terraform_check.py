"""Terraform's plan-time check of a routes file: ``vertex-triggers check``, as an external program.

The protocol is Terraform's external data source's (terraform/config.tf, data.external).

Reads the query, a JSON object with ``routes_file``, from stdin; runs the check an instance runs
at start-up, with KFP's reading of each template (``check``); prints a JSON object of strings
(``ok``, ``routes``, ``warnings``) and exits 0, or prints check's error line to stderr and exits 1,
which stops ``terraform plan`` with that line (the external provider's protocol: hashicorp's
terraform-provider-external, data source ``external``).
"""

import json
import sys

from triggers_cli.check import run_check
from triggers_cli.environment import cli_environment


def main() -> int:
    """Answer one query from stdin."""
    try:
        query = json.loads(sys.stdin.read() or "{}")
        path = query["routes_file"]
    except (ValueError, KeyError, TypeError):
        print('expected a JSON object with "routes_file" on stdin', file=sys.stderr)
        return 1
    # As the launching functions start: every route against its template. Webhook URLs are not
    # here at plan time (on_run_state reads them from Secret Manager); Terraform checks that each
    # variable a route names has its secret.
    result = run_check(cli_environment(path, "on_object_finalized"))
    if not result.ok:
        print(f"vertex-triggers check {path}: {result.error}", file=sys.stderr)
        return 1
    answer = {
        "ok": "true",
        "routes": str(len(result.routes)),
        "warnings": "\n".join(result.warnings),
    }
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
