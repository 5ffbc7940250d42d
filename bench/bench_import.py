"""What osc-gpu adds to every ``openstack`` run: importing its plugin.

OSC imports every installed plugin's ``plugin`` module at start-up, for
every command, so that import is paid by everyone who installs osc-gpu.
Two measures, each from fresh interpreters, interleaved, medians:

- in-process: the time of ``import osc_gpu.plugin`` once ``osc_lib.utils``
  is loaded (as OSC has loaded it by then), against the time of
  ``import openstackclient.shell``;
- whole import: ``import openstackclient.shell`` as installed, against the
  same with osc-gpu's plugin replaced by an empty module, so the difference
  is the plugin's whole share, package import included. It is far below
  the noise of a 0.5-1 s import, so it has no target: the first measure
  is the precise one.

(``python -X importtime`` does not see the plugin inside OSC: OSC loads it
with ``importlib.import_module``, which that option does not time.)

    .venv/bin/python bench/bench_import.py [--samples 9]

Not part of the test suite; needs no cloud.
"""

import argparse
import subprocess
import sys

import measuring

_TIME_IMPORT = ('import time; t = time.perf_counter(); import %s; '
                'print(time.perf_counter() - t)')
_PLUGIN = 'import osc_lib.utils; ' + _TIME_IMPORT % 'osc_gpu.plugin'
_OSC = _TIME_IMPORT % 'openstackclient.shell'
# OSC then finds an already loaded module under the plugin's name.
_WITHOUT_PLUGIN = ("import sys, types; m = types.ModuleType('osc_gpu.plugin');"
                   " m.API_NAME = 'gpu'; sys.modules[m.__name__] = m; ")
_WITH_PLUGIN = 'import sys, types; '


def seconds(code):
    done = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, check=True)
    return float(done.stdout.split()[-1])


def measure(samples=9):
    plugin, osc, alone, together = [], [], [], []
    seconds(_OSC)   # warm the page cache and the .pyc files
    for _ in range(samples):
        plugin.append(seconds(_PLUGIN))
        osc.append(seconds(_OSC))
        alone.append(seconds(_WITHOUT_PLUGIN + _OSC))
        together.append(seconds(_WITH_PLUGIN + _OSC))
    med = measuring.median
    return [
        measuring.Row(
            'import osc_gpu.plugin vs import openstackclient.shell '
            '(in-process)', med(plugin) * 1000, med(osc) * 1000, unit='ms',
            target=0.01, note='n=%d; plugin %s ms' % (
                samples, measuring.spread([p * 1000 for p in plugin]))),
        # No target: the samples spread over tens of ms, the plugin's
        # share is a fraction of one; a check that nothing big hides.
        measuring.Row(
            'import openstackclient.shell with vs without osc-gpu plugin',
            med(together) * 1000, med(alone) * 1000, unit='ms',
            note='n=%d; difference %+.1f ms; samples %s vs %s ms' % (
                samples, (med(together) - med(alone)) * 1000,
                measuring.spread([t * 1000 for t in together]),
                measuring.spread([a * 1000 for a in alone]))),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--samples', type=int, default=9)
    args = parser.parse_args()
    measuring.print_rows('Import cost of osc-gpu (medians)',
                         measure(args.samples))
    return 0


if __name__ == '__main__':
    sys.exit(main())
