"""Extractors: the text of PDF, EPUB, DOCX, HTML, Markdown, plain text, SRT and VTT files, behind
the ``DocumentExtractor`` port (``ExtractorRegistry`` sniffs the type and picks one)."""
