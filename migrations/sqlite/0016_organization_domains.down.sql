drop table organization_domains;
