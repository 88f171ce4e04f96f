"""Driving the search-as-you-type pickers (issue 14 item 4, Tom Select) from browser tests, by keyboard."""


def pick(page, select_id: str, typed: str, expect: str) -> str:
    """Focus the picker of ``<select id=select_id>``, type ``typed``, wait until the server's first answer reads
    ``expect`` and take it with Enter (as a user would); return the value the <select> now holds."""
    control = page.locator(f"#{select_id}-ts-control")
    control.click()
    control.press_sequentially(typed, delay=20)
    first = page.locator(f"#{select_id}-ts-dropdown .option").first.filter(has_text=expect)
    first.wait_for(state="attached")
    if not first.is_visible():
        control.press("ArrowDown")  # the list closed meanwhile (a slow answer): ↓ opens it, as for a user
    first.wait_for()
    control.press("Enter")
    return page.eval_on_selector(f"#{select_id}", "select => select.value")


def picker_options(page, select_id: str) -> list[str]:
    """The texts the picker's drop-down shows now."""
    page.locator(f"#{select_id}-ts-dropdown .option").first.wait_for()
    return page.locator(f"#{select_id}-ts-dropdown .option").all_inner_texts()
