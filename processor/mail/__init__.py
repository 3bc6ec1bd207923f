"""Mail in and out (SPEC §10, issue 19): `kieumau thu` collects the forms units email to the
ward into the month's inbox, `kieumau gui` sends each unit its feedback and next form.

- ``servers``: mail addresses, `imaps://` / `smtps://` addresses of servers, passwords, and
  header text that can never carry a line break.
- ``sources``: where mail is read from: a folder of .eml files, an .mbox, a Maildir, an IMAP
  folder; read-only unless the clerk asks to mark mails read.
- ``attachments``: the forms inside one mail: attachments, zips, forwarded mails, with the
  intake's size and bomb limits.
- ``ledger``: what was collected and sent, kept in the history store so nothing is taken or
  sent twice.
- ``collect``: `kieumau thu` as a function; ``compose`` and ``send``: `kieumau gui`.
"""
