"""Documents: templates, rendering, conversion, the render job."""
