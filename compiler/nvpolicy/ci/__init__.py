"""CI glue shipped with nvpolicy: pull-request comments and GitLab code-quality reports (`nvpolicy ci …`)."""
