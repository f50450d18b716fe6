"""How a paged table's columns share its width (`paged_table.column_widths`)."""

from __future__ import annotations

from reconcile_tui.tui.widgets.paged_table import column_widths


def test_columns_that_fit_are_as_wide_as_their_content():
    assert column_widths([5, 20, 12], [None, 8, None], room=40) == [5, 20, 12]


def test_a_capped_column_gives_way_only_as_far_as_the_room_needs():
    # 5 + 20 + 12 = 37 in 33: the capped column gives 4 of its 12 extra cells back.
    assert column_widths([5, 20, 12], [None, 8, None], room=33) == [5, 16, 12]


def test_a_column_without_a_cap_never_gives_way():
    assert column_widths([5, 20, 30], [None, 8, None], room=20) == [5, 8, 30]


def test_room_left_goes_to_the_capped_columns_left_to_right():
    assert column_widths([10, 10, 10], [4, 4, None], room=22) == [8, 4, 10]
    assert column_widths([10, 10, 10], [4, 4, None], room=26) == [10, 6, 10]
