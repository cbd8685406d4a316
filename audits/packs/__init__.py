"""Evidence pack assembly: collect sections, render HTML, lay out a PDF/A-3b with its manifest."""
