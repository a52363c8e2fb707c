#!/usr/bin/env python3
# authheaders-zones.py EXPECTED.YML DIR: write one zone file per top-level
# domain of the "dns" map of the authheaders DMARC cases into DIR (the
# tree walk asks _dmarc.com and the like, which the test server must
# answer), and print their paths.
#
# The map says null for a name that does not exist and "" or "exists" for
# one that exists without a TXT record.  A "" under _dmarc. is left out:
# "no TXT record there" is what the cases mean, and creating the name
# would make its parent exist (an empty non-terminal), which would
# contradict the "sub.example.biz: null" the np= case relies on.  Other
# existing names get an A record.
import sys
import yaml

with open(sys.argv[1]) as f:
    doc = yaml.safe_load(f)
zones = {}
for name, value in doc["dns"].items():
    tld = name.rsplit(".", 1)[-1]
    rr = zones.setdefault(tld, [])
    if value is None:
        continue
    if value in ("", "exists"):
        if name.startswith("_dmarc."):
            continue
        rr.append("%s. A 192.0.2.1" % name)
        continue
    # TXT strings of at most 255 bytes each
    chunks = [value[i:i + 255] for i in range(0, len(value), 255)]
    quoted = " ".join('"%s"' % c.replace("\\", "\\\\").replace('"', '\\"')
                      for c in chunks)
    rr.append("%s. TXT %s" % (name, quoted))
for tld, rr in sorted(zones.items()):
    path = "%s/%s.zone" % (sys.argv[2], tld)
    with open(path, "w") as f:
        f.write("$ORIGIN %s.\n$TTL 300\n" % tld)
        f.write("@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n" % (tld, tld))
        f.write("@ NS ns.%s.\nns A 127.0.0.1\n" % tld)
        for line in rr:
            f.write(line + "\n")
    print(path)
