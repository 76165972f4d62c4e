DROP TABLE squad_cells;
DROP TABLE squads;
DROP TABLE cell_members;
DROP TABLE cells;
DROP TABLE grid_versions;
