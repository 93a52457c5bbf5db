/* evtx_xml.h - the XML libevtx renders for a record, read into the element
 * tree the native reader builds (backends/eval/evtx_dom.h), so the tests can
 * compare the two readers record for record. Test code only. */
#ifndef SG_TEST_EVTX_XML_H
#define SG_TEST_EVTX_XML_H

#include "eval/evtx_dom.h"

/* xml (NUL-terminated, modified in place: entities decoded) into d; false
 * with *why on XML libevtx does not write. */
bool sg_test_xml_dom(XDom *d, char *xml, const char **why);

#endif
