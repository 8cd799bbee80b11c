"""One home per rule: the profile removes everything the audit searches for."""

from __future__ import annotations

import pytest
from pydicom.datadict import keyword_for_tag, tag_for_keyword

from mrishare import dicom, identifiers


@pytest.mark.parametrize("keyword", sorted(identifiers.harvested_keywords()))
def test_every_harvested_attribute_is_removed_or_replaced_by_the_default_profile(keyword):
    tag = tag_for_keyword(keyword)
    assert tag is not None
    if tag >> 16 == 0x0002:  # file meta header: not in Table E.1-1
        action = dicom.profile_rules().file_meta.get(tag)
    else:
        action = dicom.plan(dicom.Options()).get(tag)
    assert action in {"X", "Z", "D", "U"}, f"{keyword}: the default profile's action is {action}"


def test_every_keyword_of_the_identifying_table_is_a_dicom_keyword():
    for row in identifiers.attributes():
        tag = tag_for_keyword(row.keyword)
        assert tag is not None, row.keyword
        assert row.tag == f"({tag >> 16:04X},{tag & 0xFFFF:04X})", row.keyword
        assert keyword_for_tag(tag) == row.keyword

