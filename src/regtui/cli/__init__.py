"""The command line: argument parsing here, rendering in cli.output."""
