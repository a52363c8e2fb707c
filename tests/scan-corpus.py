#!/usr/bin/env python3
"""scan-corpus.py DIR: the messages of tests/mail-scan.bats.

For each rule of mail-scan(1) it writes RULE.eml, on which the rule
fires, and RULE-twin.eml, as alike as can be, on which it must not.
The files are made here, from Python's email, zipfile and tarfile and
Debian's zip (for an encrypted zip), so no sample of malware is stored.
"""
import email.message
import io
import os
import subprocess
import sys
import tempfile
import zipfile

OUT = sys.argv[1]
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-"
         b"TEST-FILE!$H+H*")
CLAM = "/usr/share/clamav-testfiles/clam.exe"
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")


def message(text="Hello,\n\nsee the attachment.\n", files=(), headers=(),
            sender="Alice <alice@example.org>", subject="the file",
            html=None):
    m = email.message.EmailMessage()
    m["From"] = sender
    m["To"] = "bob@example.test"
    m["Subject"] = subject
    for k, v in headers:
        m[k] = v
    m.set_content(text)
    if html is not None:
        m.add_alternative(html, subtype="html")
    for name, data, ctype in files:
        main, sub = ctype.split("/")
        if main == "text":
            m.add_attachment(data.decode("utf-8", "replace"), subtype=sub,
                             filename=name)
        else:
            m.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return bytes(m)


def write(name, data):
    with open(os.path.join(OUT, name + ".eml"), "wb") as f:
        f.write(data)


def pair(rule, fires, twin):
    write(rule, fires)
    write(rule + "-twin", twin)


def zipped(members, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for n, d in members:
            z.writestr(n, d)
    return b.getvalue()


def encrypted_zip(password):
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "report.txt"), "wb") as f:
            f.write(b"quarterly report\n" * 10)
        subprocess.run(["zip", "-q", "-P", password, "x.zip", "report.txt"],
                       cwd=d, check=True)
        with open(os.path.join(d, "x.zip"), "rb") as f:
            return f.read()


def ole(with_macro):
    # an OLE compound file header, a directory sector naming the streams
    head = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(16) + \
        bytes.fromhex("3e000300feff0900060000000000000000000000") + \
        bytes(512 - 44)
    name = "_VBA_PROJECT" if with_macro else "WordDocument"
    entry = name.encode("utf-16-le").ljust(64, b"\0") + bytes(64)
    return head + entry * 4


def main():
    os.makedirs(OUT, exist_ok=True)
    clam = open(CLAM, "rb").read()
    txt = b"plain words\n" * 20

    pair("executable_disguised",
         message(files=[("invoice.pdf", clam, "application/pdf")]),
         message(files=[("invoice.pdf", PDF, "application/pdf")]))
    pair("executable",
         message(files=[("tool.bin", clam, "application/octet-stream")]),
         message(files=[("tool.bin", txt, "application/octet-stream")]))
    pair("double_extension",
         message(files=[("invoice.pdf.exe", txt, "application/octet-stream")]),
         message(files=[("invoice.pdf", PDF, "application/pdf")]))
    pair("filename_rtlo",
         message(files=[("photo\u202egpj.txt", txt, "text/plain")]),
         message(files=[("photo.txt", txt, "text/plain")]))
    pair("script_file",
         message(files=[("update.js", b"WScript.Echo(1);\n",
                         "application/javascript")]),
         message(files=[("update.txt", b"WScript.Echo(1);\n", "text/plain")]))
    pair("shortcut_file",
         message(files=[("readme.lnk", bytes.fromhex(
             "4c0000000114020000000000c000000000000046") + bytes(60),
             "application/octet-stream")]),
         message(files=[("readme.txt", txt, "text/plain")]))
    pair("disk_image",
         message(files=[("disk.img", bytes(4096), "application/octet-stream")]),
         message(files=[("disk.dat", bytes(4096), "application/octet-stream")]))
    pair("onenote_file",
         message(files=[("notes.one", bytes.fromhex(
             "e4525c7b8cd8a74daeb15378d02996d3") + bytes(200),
             "application/octet-stream")]),
         message(files=[("notes.dat", bytes(216), "application/octet-stream")]))
    docx = [("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w:document/>")]
    pair("office_macro",
         message(files=[("report.docm", zipped(docx + [
             ("word/vbaProject.bin", ole(True))]),
             "application/vnd.ms-word.document.macroEnabled.12")]),
         message(files=[("report.docx", zipped(docx),
             "application/vnd.openxmlformats-officedocument."
             "wordprocessingml.document")]))
    write("office_macro_ole",
          message(files=[("report.doc", ole(True), "application/msword")]))
    write("office_macro_ole-twin",
          message(files=[("report.doc", ole(False), "application/msword")]))
    pair("pdf_javascript",
         message(files=[("form.pdf", PDF.replace(
             b"/Type /Catalog", b"/Type /Catalog /Names << /J#61vaScript "
             b"3 0 R >>"), "application/pdf")]),
         message(files=[("form.pdf", PDF, "application/pdf")]))
    pair("pdf_openaction",
         message(files=[("form.pdf", PDF.replace(
             b"/Type /Catalog", b"/Type /Catalog /OpenAction 3 0 R"),
             "application/pdf")]),
         message(files=[("form.pdf", PDF, "application/pdf")]))
    pair("pdf_launch",
         message(files=[("form.pdf", PDF.replace(
             b"/Type /Catalog", b"/Type /Catalog /A << /S /Launch /F "
             b"(cmd.exe) >>"), "application/pdf")]),
         message(files=[("form.pdf", PDF, "application/pdf")]))
    smuggle = (b"<html><script>var d = atob('TVqQAAMAAAAEAAAA');"
               b"var b = new Blob([d]); var a = document.createElement('a');"
               b"a.href = URL.createObjectURL(b); a.download = 'x.exe';"
               b"a.click();</script></html>\n")
    pair("html_smuggling",
         message(files=[("fax.html", smuggle, "text/html")]),
         message(files=[("fax.html", b"<html><p>Your fax</p></html>\n",
                         "text/html")]))
    z = encrypted_zip("Tr0ub4dor")
    pair("archive_password_in_text",
         message(text="The invoice is attached.\nPassword: Tr0ub4dor\n",
                 files=[("invoice.zip", z, "application/zip")]),
         message(text="The invoice is attached.\nCall me for the key.\n",
                 files=[("invoice.zip", z, "application/zip")]))
    pair("archive_encrypted",
         message(files=[("invoice.zip", z, "application/zip")]),
         message(files=[("invoice.zip", zipped([("report.txt", txt)]),
                         "application/zip")]))
    pair("hash_blocklist",
         message(files=[("outer.zip", zipped([("inner.zip", zipped([
             ("eicar.txt", EICAR)]))]), "application/zip")]),
         message(files=[("outer.zip", zipped([("inner.zip", zipped([
             ("eicar.txt", EICAR.lower())]))]), "application/zip")]))
    # nested archives past --max-archive-depth 4
    deep = txt
    for i in range(6):
        deep = zipped([("level%d.zip" % i if i else "a.txt", deep)])
    shallow = zipped([("level1.zip", zipped([("a.txt", txt)]))])
    pair("archive_depth",
         message(files=[("deep.zip", deep, "application/zip")]),
         message(files=[("deep.zip", shallow, "application/zip")]))
    pair("bulk_header",
         message(headers=[("List-Unsubscribe", "<mailto:u@example.org>")]),
         message())
    # uuencode of an executable inside the text
    import binascii
    uu = "begin 644 setup.exe\n"
    for i in range(0, len(clam), 45):
        uu += binascii.b2a_uu(clam[i:i + 45]).decode()
    uu += "`\nend\n"
    pair("executable_uuencoded",
         message(text="Run this:\n" + uu),
         message(text="Run this:\nbegin nothing\n"))
    urls_bec_spam()
    # X-Sluice- fields from outside
    write("remove", message(headers=[("X-Sluice-Verdict", "clean"),
                                     ("X-Sluice-Reasons", "none")]))


def text_pair(rule, fires, twin, **kw):
    pair(rule, message(text=fires, **kw), message(text=twin, **kw))


def html_pair(rule, fires, twin):
    body = "<html><body><p>Hello, %s</p></body></html>\n"
    pair(rule, message(text="Hello.\n", html=body % fires),
         message(text="Hello.\n", html=body % twin))


def urls_bec_spam():
    # URLs (mail-scan.bats runs them with --protect-domains,
    # --domain-blocklist of tests/data/scan)
    text_pair("url.ip_literal", "Log in at http://192.0.2.7/login today.\n",
              "Log in at http://www.example.net/login today.\n")
    text_pair("url.punycode", "See http://xn--bcher-kva.example/ now.\n",
              "See http://buecher.example/ now.\n")
    text_pair("url.mixed_script",
              "See http://p\u0430ypal-secure.example/ now.\n",
              "See http://paypal-secure.example/ now.\n")
    html_pair("url.text_mismatch",
              '<a href="http://evil.example/x">http://www.bank.example/</a>',
              '<a href="http://www.bank.example/x">'
              'http://www.bank.example/</a>')
    text_pair("url.lookalike", "Sign in: https://www.paypa1.com/signin\n",
              "Sign in: https://www.paypal.com/signin\n")
    text_pair("url.shortener", "Read https://bit.ly/3xYz now.\n",
              "Read https://example.net/3xYz now.\n")
    html_pair("url.data",
              '<a href="data:text/html;base64,PGI+aGk8L2I+">open</a>',
              '<a href="https://example.net/open">open</a>')
    html_pair("url.javascript", '<a href="javascript:alert(1)">open</a>',
              '<a href="https://example.net/open">open</a>')
    text_pair("url.userinfo", "See http://paypal.com@evil.example/ now.\n",
              "See http://evil.example/ now.\n")
    text_pair("url.blocklist", "See http://a.blocked.example/x now.\n",
              "See http://a.unblocked.example/x now.\n")
    # a URL in a text attachment, and in an HTML file sent as octets
    pair("url_attachment",
         message(files=[("notes.txt", b"see http://192.0.2.8/a\n",
                         "text/plain"),
                        ("page.bin", b"<html><a href='http://192.0.2.9/b'>"
                         b"b</a></html>\n", "application/octet-stream")]),
         message(files=[("notes.txt", b"see nothing\n", "text/plain")]))
    # DNS block lists (tests/data/scan/*.zone)
    text_pair("url.uribl", "See https://www.listed.example/a now.\n",
              "See https://www.unlisted.example/a now.\n")
    # impersonation (--own-domains, --protect-names of tests/data/scan)
    hi = "Hello Bob,\n\nthe minutes are attached.\n"
    pair("bec.display_name",
         message(text=hi, sender="Jane Doe <jane.doe.ceo@freemail.example>"),
         message(text=hi, sender="Jane Roe <jane.roe@freemail.example>"))
    write("bec.display_name-own",
          message(text=hi, sender="Jane Doe <jane@sluice.test>"))
    write("bec.display_name-lookalike",
          message(text=hi, sender="Jane D0e <jd@freemail.example>"))
    pair("bec.lookalike_from",
         message(text=hi, sender="Payroll <payroll@s1uice.test>"),
         message(text=hi, sender="Payroll <payroll@example.org>"))
    pair("bec.reply_to",
         message(text=hi, headers=[("Reply-To", "a@other.example")]),
         message(text=hi, headers=[("Reply-To", "a@lists.example.org")]))
    pair("bec.reply_to_freemail",
         message(text=hi, headers=[("Reply-To", "ceo.private@gmail.com")]),
         message(text=hi, headers=[("Reply-To", "alice@example.org")]))
    text_pair("bec.urgency",
              "Please make the wire transfer before noon.\n",
              "Please read the minutes before noon.\n")
    # spam: the rules file and bulk senders
    pair("rules.cheap_meds",
         message(text="Cheap m3ds, no prescription!\n", subject="offer"),
         message(text="The meeting is at noon.\n", subject="offer"))
    # the rule sees the subject with its RFC 2047 words decoded
    pair("rules.subject_winner",
         message(text=hi, subject="SUBJ").replace(
             b"Subject: SUBJ", b"Subject: =?utf-8?q?You_are_a_WINNER?="),
         message(text=hi, subject="minutes"))
    pair("bulk_sender",
         message(headers=[("Feedback-ID", "1:campaign:bulk.example")]),
         message())
    # ReDoS: the rules file's runaway pattern on 40 a's and a b
    write("redos", message(text="a" * 40 + "b\n"))


main()
