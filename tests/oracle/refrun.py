#!/usr/bin/env python3
"""Run the reference workflow.py with tests/oracle/dump_cells_ext.py as its
cell dumper (workflow.py imports `dump_cells` from its own directory, whose
dump has no token for times and durations).

    python tests/oracle/refrun.py ../shared/reference/workflow.py extract --dump-cells ...

Everything else is the reference unchanged: the script runs as __main__ with
its own directory first on sys.path, as `python workflow.py` would.

With REFRUN_FULL_PRECISION=1 in the environment, openpyxl writes every
number of the chunk files at full precision (floats as `repr`, integers as
all their digits) instead of its `'%.16g'`: the reference's two steps as
they are when the intermediate files lose nothing, which is what sheetsift's
chunk files hold (README, "Deliberate differences": the `run` chain).
"""
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def full_precision():
    """openpyxl's `safe_string` with exact numbers (see the docstring)."""
    import numbers
    import openpyxl.cell._writer as writer
    original = writer.safe_string

    def exact(value):
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return str(int(value))
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            f = float(value)
            if f == f and f not in (float('inf'), float('-inf')):
                return repr(f)
        return original(value)

    writer.safe_string = exact


def ods_boolean_value():
    """pandas' odf reader with an ods boolean read from its
    `office:boolean-value` (sheetsift's reader, calamine, does not expose the
    displayed text that pandas compares with `TRUE`): REFRUN_ODS_BOOLEAN_VALUE=1,
    the deliberate difference of tests/cases/README.md."""
    from odf.namespaces import OFFICENS
    from pandas.io.excel._odfreader import ODFReader
    original = ODFReader._get_cell_value

    def value(self, cell):
        if str(cell) != '#N/A' and cell.attributes.get((OFFICENS, 'value-type')) == 'boolean':
            return cell.attributes.get((OFFICENS, 'boolean-value')) == 'true'
        return original(self, cell)

    ODFReader._get_cell_value = value


def main():
    if os.environ.get('REFRUN_FULL_PRECISION') == '1':
        full_precision()
    if os.environ.get('REFRUN_ODS_BOOLEAN_VALUE') == '1':
        ods_boolean_value()
    workflow = os.path.abspath(sys.argv[1])
    sys.path.insert(0, HERE)
    import dump_cells_ext
    sys.modules['dump_cells'] = dump_cells_ext
    sys.path[0] = os.path.dirname(workflow)
    sys.argv = [workflow] + sys.argv[2:]
    # runpy makes the script the __main__ module while it runs, so the
    # multiprocessing Pool (fork) finds its worker functions by name.
    runpy.run_path(workflow, run_name='__main__')


if __name__ == '__main__':
    main()
