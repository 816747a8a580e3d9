"""JWT interoperability with PyJWT, an independent implementation.

    python3 pyjwt_interop.py verify ALG KEY_FILE ISSUER   < token      -> prints the verified claims (JSON)
    python3 pyjwt_interop.py sign   ALG KEY_FILE          < claims.json -> prints the signed token

KEY_FILE holds the HS256 secret or a PEM key (the public key to verify, the private key to sign).
"""

import json
import sys

import jwt


def main() -> None:
    mode, alg, key_file = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(key_file, "rb") as f:
        key = f.read()
    if mode == "verify":
        token = sys.stdin.read().strip()
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            issuer=sys.argv[4],
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        print(json.dumps(claims, sort_keys=True))
    elif mode == "sign":
        claims = json.loads(sys.stdin.read())
        print(jwt.encode(claims, key, algorithm=alg))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
