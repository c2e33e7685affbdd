"""The team self-assessment against the NCSC's five principles (issue 19 item 5):
``/secbot assess <team>`` asks the questions in ``content/data/assessment`` one card at
a time, privately, keeps every answer as it is given (stop and carry on later), and on
finishing sends a red/amber/green report as Markdown and HTML.

- ``feature`` — the command, the buttons and who may use them;
- ``cards`` — the question cards;
- ``scoring`` — the ratings per principle (worst wins), pure;
- ``report`` — the report as data, and as Markdown; ``report_html`` — as one
  self-contained HTML page;
- ``store`` / ``tables`` — the assessments and their answers.
"""
