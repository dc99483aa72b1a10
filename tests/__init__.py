"""Tests of franchise-sim."""
