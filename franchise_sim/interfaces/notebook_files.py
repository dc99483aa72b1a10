"""Notebook files kept free of outputs: the save hook ``make lab`` gives JupyterLab.

Running the shipped notebooks fills their cells with outputs (figures, tables, execution
counts); saved as they are, every save would rewrite the files with megabytes of pictures.
``strip_outputs`` is a Jupyter server pre-save hook: JupyterLab keeps showing the outputs, and
the file on disk holds only the cells' sources. ``make lab`` starts JupyterLab with it::

    jupyter lab --FileContentsManager.pre_save_hook=\
        franchise_sim.interfaces.notebook_files.strip_outputs
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any


def clear_outputs(notebook: MutableMapping[str, Any]) -> None:
    """Empty every code cell's outputs and execution count, and drop saved widget state.

    Args:
        notebook: A notebook's content in the nbformat 4 layout (a plain dict or an
            ``nbformat.NotebookNode``); changed in place. Sources and other metadata are kept.
    """
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    metadata = notebook.get("metadata")
    if isinstance(metadata, MutableMapping):
        metadata.pop("widgets", None)


def strip_outputs(model: MutableMapping[str, Any], **_: Any) -> None:
    """Jupyter server pre-save hook: save notebooks without outputs; leave other files alone.

    Jupyter calls it as ``hook(model=model, path=path, contents_manager=manager)`` before it
    writes the file, with the model about to be saved; the other arguments are not needed.

    Args:
        model: The contents model; its ``content`` is changed in place when its ``type`` is
            ``notebook`` and the content is a notebook of nbformat 4.
    """
    content = model.get("content")
    if model.get("type") != "notebook" or not isinstance(content, MutableMapping):
        return
    if content.get("nbformat") == 4:
        clear_outputs(content)
