#!/usr/bin/python3
# A WebKitGTK browser for WebKitWebDriver, like MiniBrowser but on a persistent profile:
# MiniBrowser puts every automation session on ephemeral storage, so nothing it writes survives
# the browser. This one keeps its website data (IndexedDB, ...) in --profile=DIR, so a test can
# end a WebDriver session and find the data in the next one: a browser restart.
# Needs Debian's python3-gi and gir1.2-webkit2-4.1; started by the driver with --automation.
import sys

import gi

gi.require_version('Gtk', '3.0')
gi.require_version('WebKit2', '4.1')
from gi.repository import Gtk, WebKit2  # noqa: E402

profile = next((arg.split('=', 1)[1] for arg in sys.argv[1:] if arg.startswith('--profile=')), None)
if profile is None:
    sys.exit('usage: webkit-browser.py --automation --profile=DIR')

manager = WebKit2.WebsiteDataManager(base_data_directory=profile, base_cache_directory=f'{profile}/cache')
context = WebKit2.WebContext(website_data_manager=manager)
context.set_automation_allowed('--automation' in sys.argv)
windows = []


def create_web_view(_session):
    view = WebKit2.WebView(web_context=context, is_controlled_by_automation=True)
    window = Gtk.Window()
    window.set_default_size(1024, 768)
    window.add(view)
    windows.append(window)

    def closed(_view):
        windows.remove(window)
        window.destroy()

    view.connect('close', closed)
    window.show_all()
    return view


def automation_started(_context, session):
    info = WebKit2.ApplicationInfo()
    info.set_name('warren-webkit')
    info.set_version(WebKit2.get_major_version(), WebKit2.get_minor_version(), WebKit2.get_micro_version())
    session.set_application_info(info)
    session.connect('create-web-view', create_web_view)


context.connect('automation-started', automation_started)
Gtk.main()
