"""The SCIM filter and PATCH parser, on its own: what it reads and what it refuses."""

from __future__ import annotations

import pytest

from aims.scim.parsing import (
    Compare,
    Logical,
    Not,
    PatchPath,
    ScimError,
    filter_parse,
    group_patch_changes,
    patch_operations_parse,
    patch_path_parse,
    user_attributes,
    user_patch_changes,
)
from tests.aims.scim.conftest import PATCH_OP


def ops(*operations):
    return patch_operations_parse({"schemas": [PATCH_OP], "Operations": list(operations)})


def test_filters_read_comparisons_and_logic():
    assert filter_parse('userName eq "a@b.example"') == Compare("username", "eq", "a@b.example")
    assert filter_parse('urn:ietf:params:scim:schemas:core:2.0:User:userName Eq "x"') == Compare("username", "eq", "x")
    assert filter_parse("title pr") == Compare("title", "pr")
    assert filter_parse('displayName eq "say \\"hi\\""') == Compare("displayname", "eq", 'say "hi"')
    assert filter_parse("active eq false") == Compare("active", "eq", False)
    assert filter_parse("meta.version gt 3") == Compare("meta.version", "gt", 3)
    tree = filter_parse('a eq "1" or b eq "2" and not (c eq "3")')
    assert tree == Logical(
        "or", Compare("a", "eq", "1"), Logical("and", Compare("b", "eq", "2"), Not(Compare("c", "eq", "3")))
    )
    assert filter_parse('(a eq "1" or b eq "2") and c eq "3"').op == "and"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "userName",
        "userName eq",
        'userName is "x"',
        "userName eq bare",
        '(a eq "1"',
        'a eq "1")',
        'a eq "1" and',
        'a eq "1" b eq "2"',
        'not a eq "1"',
        '"x" eq "y"',
        "a eq (",
    ],
)
def test_unreadable_filters_are_refused(text):
    with pytest.raises(ScimError) as refused:
        filter_parse(text)
    assert refused.value.scim_type == "invalidFilter" and refused.value.status == 400


def test_patch_paths():
    assert patch_path_parse("active") == PatchPath("active")
    assert patch_path_parse("name.givenName") == PatchPath("name", None, "givenname")
    assert patch_path_parse('emails[type eq "work"].value') == PatchPath(
        "emails", Compare("type", "eq", "work"), "value"
    )
    assert patch_path_parse('members[value eq "42"]') == PatchPath("members", Compare("value", "eq", "42"))
    department = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
    assert patch_path_parse(department) == PatchPath(department.lower())
    for bad in ("", "name[", "a b", "emails[type eq ]", "emails[type].value.x"):
        with pytest.raises(ScimError) as refused:
            patch_path_parse(bad)
        assert refused.value.scim_type == "invalidPath"


def test_user_patches_as_entra_and_okta_send_them():
    assert user_patch_changes(ops({"op": "Replace", "path": "active", "value": "False"})) == {"active": False}
    assert user_patch_changes(ops({"op": "replace", "value": {"active": True, "name.givenName": "A"}})) == {
        "active": True,
        "given_name": "A",
    }
    assert user_patch_changes(ops({"op": "add", "value": {"name": {"familyName": "B"}}})) == {"family_name": "B"}
    assert user_patch_changes(ops({"op": "remove", "path": "externalId"})) == {"external_id": ""}
    assert user_patch_changes(ops({"op": "replace", "path": "title", "value": "CTO"})) == {}
    with pytest.raises(ScimError, match="not an attribute"):
        user_patch_changes(ops({"op": "replace", "path": "shoeSize", "value": 9}))
    with pytest.raises(ScimError, match="cannot be filtered"):
        user_patch_changes(ops({"op": "replace", "path": 'name[x eq "y"]', "value": 9}))


def test_group_patches():
    changes = group_patch_changes(
        ops(
            {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
            {"op": "remove", "path": 'members[value eq "c"]'},
            {"op": "replace", "value": {"id": "g-1", "displayName": "New"}},
        )
    )
    assert (changes.members_add, changes.members_remove, changes.display_name) == (["a", "b"], ["c"], "New")
    replaced = group_patch_changes(
        ops(
            {"op": "add", "path": "members", "value": [{"value": "a"}]},
            {"op": "replace", "path": "members", "value": []},
        )
    )
    assert (replaced.members_set, replaced.members_add) == ([], None)
    assert group_patch_changes(ops({"op": "remove", "path": "members"})).members_set == []
    with pytest.raises(ScimError) as refused:
        group_patch_changes(ops({"op": "remove", "path": 'members[display eq "x"]'}))
    assert refused.value.scim_type == "invalidPath"


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"Operations": []},
        {"schemas": [PATCH_OP]},
        {"schemas": [PATCH_OP], "Operations": ["x"]},
        {"schemas": [PATCH_OP], "Operations": [{"op": "copy", "path": "a"}]},
        {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": 3}]},
    ],
)
def test_malformed_patch_bodies_are_refused(body):
    with pytest.raises(ScimError) as refused:
        patch_operations_parse(body)
    assert refused.value.status == 400 and refused.value.scim_type in {"invalidSyntax", "invalidPath"}


def test_user_resources():
    read = user_attributes({"userName": " Kim@X.example ", "emails": [{"value": "k@x.example"}], "active": "true"})
    assert read["user_name"] == "Kim@X.example" and read["email"] == "k@x.example" and read["active"] is True
    emails = [{"value": "home@x.example", "type": "home"}, {"value": "work@x.example", "type": "work"}]
    assert user_attributes({"userName": "k", "emails": emails})["email"] == "work@x.example"
    primary = [{"value": "a@x.example", "type": "work"}, {"value": "p@x.example", "primary": True}]
    assert user_attributes({"userName": "k", "emails": primary})["email"] == "p@x.example"
    assert user_attributes({"USERNAME": "k@x.example"})["email"] == "k@x.example"  # names are case-insensitive
    with pytest.raises(ScimError, match="not an e-mail address"):
        user_attributes({"userName": "kim"})
