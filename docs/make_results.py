"""Print the tables of docs/results.md from a results.json written by `symhamil reproduce`.

symhamil reproduce --out symhamil-results
python docs/make_results.py symhamil-results/results.json
"""

import json
import math
import sys

ROUTES = (("faithful", "faithful"), ("symhamil", "symhamil"), ("force_sindy", "force-SINDy"))


def pct(x) -> str:
    if x is None:
        return "spurious"
    return f"{100 * x:.4f}%" if x >= 1e-6 else f"{100 * x:.1e}%"


def main(path: str) -> None:
    doc = json.load(open(path))
    print(f"`{doc['command']}`: {doc['wall_time']:.0f} s of wall time ({doc['machine']}).\n")
    print("| case | term | true | paper | paper error | faithful | symhamil | force-SINDy |")
    print("|---|---|---|---|---|---|---|---|")
    for key, case in doc["cases"].items():
        terms = list(case["truth"])
        for r in case["routes"].values():
            terms += [t for t in r["relative_error"] if t not in terms]
        for t in terms:
            paper = case["paper"].get(t)
            cells = [
                key,
                f"`{t}`",
                f"{case['truth'].get(t, 0.0):.6g}",
                "" if paper is None else f"{paper:.5g}",
                pct(case["paper_relative_error"][t]) if t in case["paper_relative_error"] else "",
            ]
            for route, _ in ROUTES:
                r = case["routes"][route]
                c, e = r["coefficients"].get(t, 0.0), r["relative_error"].get(t, 0.0)
                cells.append(f"{c:.8g} ({pct(e)})" if c or not math.isclose(e, 0) else "0")
            print("| " + " | ".join(cells) + " |")
    print(
        "\n| case | route | training | steps / iterations | final loss | wall time | max error "
        "| true support |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for key, case in doc["cases"].items():
        for route, name in ROUTES:
            r = case["routes"][route]
            t = r["training"]
            if t is None:
                print(
                    f"| {key} | {name} | no network | | | | {pct(r['max_relative_error'])} | "
                    f"{r['true_support']} |"
                )
                continue
            print(
                f"| {key} | {name} | {t['description']} | {t['steps']} / {t['iterations']} | "
                f"{t['final_loss']:.3e} | {t['wall_time']:.1f} s | "
                f"{pct(r['max_relative_error'])} | {r['true_support']} |"
            )


if __name__ == "__main__":
    main(sys.argv[1])
