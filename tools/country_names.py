"""Writes crates/steward-core/locales/<language>/countries.ftl: every ISO 3166-1 country's name in
that language, from Debian's iso-codes translations as the `pycountry` package ships them. Steward
names a person's country in the privacy center in the visitor's language; the English names are
rust_iso3166's own. Run again when a language is added or iso-codes changes:

    python3 -m venv /tmp/names && /tmp/names/bin/pip install pycountry
    /tmp/names/bin/python tools/country_names.py de
"""

import gettext
import sys
from pathlib import Path

import pycountry

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    for language in sys.argv[1:] or ["de"]:
        translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        lines = [
            f"# Country names ({language}), written by tools/country_names.py from iso-codes (pycountry {pycountry.__version__ if hasattr(pycountry, '__version__') else ''}).".replace(" ()", ""),
            "# Do not edit by hand: run the script again.",
            "",
        ]
        for country in sorted(pycountry.countries, key=lambda c: c.alpha_2):
            # The name people use where iso-codes has one ("Taiwan", "Bolivia"), else the short name.
            translated = translation.gettext(getattr(country, "common_name", None) or country.name)
            lines.append(f"country-{country.alpha_2} = {translated}")
        out = ROOT / "crates" / "steward-core" / "locales" / language / "countries.ftl"
        out.write_text("\n".join(lines) + "\n")
        print(f"{len(lines) - 3} names written to {out}")


if __name__ == "__main__":
    main()
