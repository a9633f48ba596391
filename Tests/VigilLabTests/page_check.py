#!/usr/bin/python3
"""The status page in headless Chromium (Debian's chromium and chromium-driver, python3-selenium),
for StatusPageLabTests. Run inside the node's network namespace:

    page_check.py URL SCREENSHOT CUT-COMMAND...

With JavaScript: waits (deadline) until the page shows three members, runs CUT-COMMAND, then
waits, WITHOUT reloading, until node n3's row leaves "member"; saves a screenshot. Then with
JavaScript off: loads the page once and checks the static picture. Prints one line per finding;
exits 1 on the first that fails."""
import subprocess, sys, time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def browser(js):
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=412,1400"):
        o.add_argument(a)
    if not js:
        o.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def wait(cond, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            if cond():
                return True
        except Exception:
            pass
        time.sleep(0.02)
    return False


def fail(what):
    print("FAIL " + what, flush=True)
    sys.exit(1)


url, shot, cut = sys.argv[1], sys.argv[2], sys.argv[3:]
b = browser(True)
try:
    b.get(url)
    if not wait(lambda: "3/3 members" in b.find_element(By.ID, "summary").text, 20):
        fail("no three members: " + b.page_source[:500])
    if not wait(lambda: "Live" in b.find_element(By.ID, "live").text, 10):
        fail("the page does not follow events")
    print("READY " + b.find_element(By.ID, "summary").text, flush=True)
    first = b.execute_script("return performance.timeOrigin")
    t0 = time.time()
    subprocess.run(cut, check=True)
    if not wait(lambda: b.find_element(By.ID, "node-n3").get_attribute("data-state") != "member", 20):
        fail("n3 still a member on the page")
    seen = time.time() - t0
    state = b.find_element(By.ID, "node-n3").get_attribute("data-state")
    if b.execute_script("return performance.timeOrigin") != first:
        fail("the page was reloaded")
    wait(lambda: "stopped (fenced)" in b.find_element(By.ID, "resource-svc").text, 20)
    b.save_screenshot(shot)
    print(f"LOST n3 {state} {seen * 1000:.0f} ms after the cut, no reload; summary: {b.find_element(By.ID, 'summary').text}; "
          f"svc: {b.find_element(By.ID, 'resource-svc').text}", flush=True)
finally:
    b.quit()

b = browser(False)
try:
    b.get(url)
    rows = b.find_elements(By.CSS_SELECTOR, "#nodes tr[id^=node-]")
    live = b.find_element(By.ID, "live").text
    if len(rows) != 3 or "Static" not in live:
        fail(f"without JavaScript: {len(rows)} node rows, '{live}'")
    print("STATIC " + ", ".join(f"{r.get_attribute('id')[5:]}={r.get_attribute('data-state')}" for r in rows), flush=True)
finally:
    b.quit()
