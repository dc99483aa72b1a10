"""The outputs layer: figures, reports, workbooks and results folders.

Above the analysis layer. Figures take data and an optional ``ax`` and return it; ``report``
writes the HTML report, ``workbook`` the Excel workbook, ``folders`` writes and reads results
folders safely; the ``*_page`` modules write the attribution and model-check pages.
"""
