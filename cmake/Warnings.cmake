# Warnings are errors for every target of this project.
add_compile_options(-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
                    -Wmissing-prototypes -Wno-unused-parameter
                    -Wno-format-truncation)  # truncating messages is intended
