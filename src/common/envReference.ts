/** How a secret or a setting names an environment variable: `${env:NAME}`, NAME a shell variable name. */

/** The whole text is one reference; group 1 is the name. */
export const ENV_REFERENCE = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Every reference in a text, for String.replace; group 1 is the name. */
export const ENV_REFERENCES = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;
