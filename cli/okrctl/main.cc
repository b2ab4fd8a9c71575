// okrctl: the command-line client of okr-service. See `okrctl --help`.
#include "cli/okrctl/commands.h"

int main(int argc, char** argv) { return okr::cli::Run(argc, argv); }
