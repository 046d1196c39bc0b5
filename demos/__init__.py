"""Gradio tabs, one per file; UI only: every tab calls `core.pipelines` and nothing deeper."""
