import { backendProjects } from '../../vitest.shared.ts';

export default backendProjects(import.meta.dirname);
