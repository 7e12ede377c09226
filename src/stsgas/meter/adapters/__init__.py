"""Adapters beside the meter core: the Textual panel and the file-backed NVM.

The core (``stsgas.meter``) is sans-IO: no terminal, no file, no wall clock.
These modules connect it to a terminal (:mod:`.tui`, :mod:`.tui_view`) and to a
file standing for the EEPROM (:mod:`.file_nvm`). The core never imports them.
"""
