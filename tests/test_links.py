import pytest

from gridcore.links import BuildingLink, building_link, read_building_link


def test_a_building_link_names_its_community_and_reads_back() -> None:
    payload = building_link("CH", "YY_12")
    assert payload == "b-CH-YY_12"
    assert read_building_link(payload) == BuildingLink("YY_12", "CH")


def test_links_printed_for_a_bot_of_one_community_still_read() -> None:
    assert read_building_link("b_3") == BuildingLink("3", None)
    assert read_building_link("b_G_8") == BuildingLink("G_8", None)


@pytest.mark.parametrize("payload", ["", "inv_abc", "b-", "b-CH-", "b-C_H-3", "x_3", "b-CH-3-4"])
def test_other_payloads_are_no_building_link(payload: str) -> None:
    assert read_building_link(payload) is None


def test_a_payload_past_telegrams_limit_is_refused() -> None:
    with pytest.raises(ValueError):
        building_link("CH", "X" * 60)
