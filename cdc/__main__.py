from cdc.cli import main

main(prog_name="cdc")
