"""The elder register (建档): the one way elders are created, changed and deactivated.

The API, the dashboard's forms, the spreadsheet import and ``eldercare seed`` all write through
``eldercare.register.elders``; the input is checked by ``eldercare.register.model`` and
``eldercare.register.identity`` before anything is written.
"""
