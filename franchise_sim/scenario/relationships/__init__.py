"""The terms of each relationship an arm may enter besides a franchise, one module per form."""
