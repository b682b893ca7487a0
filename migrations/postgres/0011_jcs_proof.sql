-- Per organisation: whether credentials carry a second Data Integrity proof, `eddsa-jcs-2022`,
-- beside the `eddsa-rdfc-2022` one (a proof set: verifiers that only know JCS can check it).
-- Off by default: the RDFC proof is the one every conformant verifier checks.
ALTER TABLE issuer_settings ADD COLUMN jcs_proof BOOLEAN NOT NULL DEFAULT FALSE;
