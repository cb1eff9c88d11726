"""Server-side time of each console page on a big tenant (not a test; prints numbers).

    python3 Tests/browser/bench_console.py APPS DEVICES LICENCES_PER_DEVICE    # e.g. 1000 20000 5 = 100,000 licences

Seeds vppsim, uploads the token through the console (the sync pulls every licence), then times each page
five times against the built vppd (SQLite). Build first: swift build --product vppd (and vppctl, vppsim)."""
import sys, os, time, json, subprocess, re, urllib.request, urllib.parse, http.cookiejar, tempfile, shutil
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pathlib import Path
from conftest import Server, Simulator, free_port, BIN, PASSWORDS

work = Path(tempfile.mkdtemp(prefix="vpp-perf-"))
env = {k: v for k, v in os.environ.items() if not k.startswith("VPP_")}
sim = Server("vppsim", ["serve", "--port", "0", "--rate-limit", "0", "--log-level", "warning"], env, work, r"vppsim listening on (http://[0-9.]+:[0-9]+)")
port = free_port()
env.update({"VPP_DATABASE_URL": f"sqlite://{work}/vpp.sqlite", "VPP_APPLE_BASE_URL": sim.url + "/mdm/v2", "VPP_LOG_LEVEL": "warning"})
subprocess.run([str(BIN / "vppctl"), "admin", "create", "alice", "--role", "mdm-admin"], input=PASSWORDS["alice"] + "\n", text=True, env=env, cwd=work, check=True)
s = Simulator(sim.url)
APPS, DEVICES, PER = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
uid = json.loads(s.call("POST", "/sim/locations", {"name": "Big", "countryCode": "US", "orgName": "Big Org"}))["uId"]
assets = [{"adamId": str(100000000 + i), "totalCount": DEVICES, "productType": "App", "pricingParam": "STDQ", "deviceAssignable": True,
           "revocable": True, "supportedPlatforms": ["iOS"], "retiredCount": 0, "name": f"App {i}", "bundleId": f"com.e.a{i}", "version": "1"} for i in range(APPS)]
s.call("POST", f"/sim/locations/{uid}/assets", {"assets": assets})
serials = [f"C02P{i:08d}" for i in range(DEVICES)]
t = time.time()
for a in range(PER):
    s.call("POST", f"/sim/locations/{uid}/assignments", {"adamId": str(100000000 + a), "serialNumbers": serials})
print("seeded sim", time.time() - t, flush=True)
s.mint(uid, work / "big.vpptoken")
vppd = Server("vppd", ["serve", "--port", str(port), "--no-workers"], env, work, r"vppd listening on (http://[0-9.]+:[0-9]+)")
url = vppd.url
jar = http.cookiejar.CookieJar()
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
def get(path):
    t = time.time()
    try:
        r = op.open(url + path, timeout=600); body = r.read().decode()
    except urllib.error.HTTPError as e:
        body = e.read().decode()
    return body, time.time() - t
def post(path, fields, files=None):
    data = urllib.parse.urlencode(fields).encode()
    req = urllib.request.Request(url + path, data=data, headers={"Origin": url})
    t = time.time()
    try: r = op.open(req, timeout=1200); body = r.read().decode()
    except urllib.error.HTTPError as e: body = e.read().decode()
    return body, time.time() - t
csrf = lambda html: re.search(r'name="csrf" value="([0-9a-f]{64})"', html).group(1)
html, _ = get("/console/sign-in")
post("/console/sign-in", {"csrf": csrf(html), "username": "alice", "password": PASSWORDS["alice"]})
html, _ = get("/console/devices")
c = csrf(html)
t = time.time()
for i in range(0, DEVICES, 10000):
    post("/console/devices", {"csrf": c, "serials": "\n".join(serials[i:i+10000])})
print("devices added", time.time() - t, flush=True)
# upload through multipart
import uuid
boundary = uuid.uuid4().hex
tok = (work / "big.vpptoken").read_bytes()
body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{c}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"token_file\"; filename=\"big.vpptoken\"\r\n\r\n").encode() + tok + f"\r\n--{boundary}--\r\n".encode()
req = urllib.request.Request(url + "/console/tokens", data=body, headers={"Origin": url, "Content-Type": f"multipart/form-data; boundary={boundary}"})
t = time.time()
try: r = op.open(req, timeout=3600)
except urllib.error.HTTPError as e: print("upload", e.code, e.headers.get("Location"))
print("upload+sync", time.time() - t, flush=True)
tokens, _ = get("/console/tokens")
tid = re.search(r'/console/tokens/([0-9a-f-]{36})', tokens).group(1)
for path in ["/console/tokens", f"/console/tokens/{tid}", "/console/apps", "/console/apps?sort=available&dir=desc&page=3", "/console/apps/100000000",
             "/console/devices", "/console/devices?q=C02P0000", "/console/users", "/console/reports", "/console/audit", "/console/reports/licences.csv"]:
    times = sorted(get(path)[1] for _ in range(5))
    print(f"{path:55s} median {times[2]*1000:8.1f} ms  min {times[0]*1000:8.1f} ms", flush=True)
vppd.stop(); sim.stop()
shutil.rmtree(work, ignore_errors=True)
