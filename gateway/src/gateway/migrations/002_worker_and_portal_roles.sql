-- Two more roles: the registry worker (annulment, S002/App.10 p.7) and the portal API client (no site).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('centre_operator', 'registry_chancellery',
    'registry_head', 'registry_executive', 'registry_worker', 'supervisor', 'portal'));
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_site_check CHECK ((role IN ('supervisor', 'portal')) = (site IS NULL));
