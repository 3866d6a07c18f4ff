"""Default .docx templates and the script that builds them."""
