"""The real catalog (reporting/catalogs/fjzl2019) validates: every expression compiles, every identifier exists."""

from pathlib import Path

import pytest

from engine import evaluate, load_catalog_dir

FOLDER = Path(__file__).resolve().parents[2] / "reporting" / "catalogs" / "fjzl2019"
FORMS = ["t1", "t2", "t3", "t3m", "t4", "t4m"]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog_dir(FOLDER)  # raises CatalogError listing every problem


def test_it_loads_and_validates_the_fjzl2019_catalog(catalog):
    assert catalog.slug == "fjzl2019"
    assert sorted(f.code for f in catalog) == sorted(FORMS)
    assert catalog["t3"].subform is catalog["t3m"]
    assert catalog["t4"].subform is catalog["t4m"]
    for form in catalog:
        for item in [*form.checks, *form.indicators]:
            assert item.expr is not None, item.code
        # every identifier an expression names is a field of the form (or of its sub-form)
        for item in [*form.checks, *form.indicators]:
            assert item.expr.names <= set(form.fields), item.code
            if form.subform is not None:
                assert item.expr.member_names <= set(form.subform.fields), item.code
        for field in form.field_list:
            if field.of is not None:
                assert form.check(f"{form.code}.of.{field.code}") is not None


@pytest.mark.parametrize("code", FORMS)
def test_it_evaluates_every_fjzl2019_form_without_crashing(catalog, code):
    form = catalog[code]
    empty = evaluate(form, {}, members=[] if form.subform else None)
    # With no member entry at all, a plain sum over the members is known: nothing was referred by no one.
    member_totals = {i.code for i in form.indicators if i.expr.source.startswith("sum(members.")
                     and i.expr.source.count("(") == 1}
    assert all(v is None for c, v in empty.indicators.items() if c not in member_totals)
    assert all(empty.indicators[c] == 0 for c in member_totals)
    assert empty.violations == []
    # every field "--": nothing is computable, nothing is violated, nothing is unfilled
    dashes = {f.code: "--" for f in form.field_list}
    members = [{f.code: "--" for f in form.subform.field_list}] if form.subform else None
    result = evaluate(form, dashes, members=members, previous=dashes, peers=[dashes] * 6)
    assert result.violations == []
    assert result.unfilled == []
    assert all(v is None for v in result.indicators.values())
    assert all(result.reasons[c] for c in result.indicators)


@pytest.mark.parametrize(
    "folder",
    sorted(p.parent.name for p in FOLDER.parent.glob("*/manifest.json")),
)
def test_it_validates_every_catalog_folder(folder):
    catalog = load_catalog_dir(FOLDER.parent / folder)
    assert len(catalog) >= 1
