"""The progress bars of the rebuild's stages (snapshot, topic replay, indexing), on stderr."""
from __future__ import annotations

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.text import Text

console = Console(stderr=True)


class RowsPerSecond(ProgressColumn):
    def render(self, task) -> Text:
        return Text(f"{task.speed:,.0f} rows/s" if task.speed else "")


def progress_bar(enabled: bool = True) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RowsPerSecond(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, disable=not enabled, transient=False,
    )
