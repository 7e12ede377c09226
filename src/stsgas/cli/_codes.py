"""The exit codes of ``stsgas`` (the table in docs/cli.md), in a module that imports
nothing, so ``stsgas --help`` and ``--version`` can use them before anything else."""

#: the command did what was asked
OK = 0
#: the command ran and found a problem it reports (ledger broken, lines failed, an error reply)
FOUND = 1
#: the command could not run: bad usage, a missing or unreadable file, a bad or
#: unreachable database
CANNOT_RUN = 2
#: refused for a reason of its own (documented per command)
REFUSED = 3
#: stdout was closed before the output was all written (``| head``): 128 + SIGPIPE
CLOSED_PIPE = 141
#: stopped by ^C: 128 + SIGINT
INTERRUPTED = 130
