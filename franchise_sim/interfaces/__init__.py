"""The interfaces layer: how a person meets the tool.

The top floor. ``cli`` is the command line (it parses, calls one library function and writes),
``notebook`` the Jupyter conveniences that wrap results one floor up from the data, and
``explorer`` the interactive explorer; ``notebook_files`` keeps saved notebooks clean.
"""
